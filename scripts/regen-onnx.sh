#!/usr/bin/env bash
# Regenerates Sources/GearboxEngine/ONNX/onnx.pb.swift from Protos/onnx/onnx.proto.
#
# The generated file is committed, so building Gearbox needs neither protoc nor the plugin; run
# this only after replacing Protos/onnx/onnx.proto with a newer ONNX release's copy (the PyPI
# wheel ships it: `pip download --no-deps onnx`, unzip, take onnx/onnx.proto).
#
# Needs: Debian `protobuf-compiler` (protoc) and `protoc-gen-swift` built from the same
# swift-protobuf version the package depends on (1.39.0):
#   git clone https://github.com/apple/swift-protobuf /tmp/swift-protobuf
#   git -C /tmp/swift-protobuf checkout 1.39.0
#   (cd /tmp/swift-protobuf && swift build -c release --product protoc-gen-swift)
#   PROTOC_GEN_SWIFT=/tmp/swift-protobuf/.build/release/protoc-gen-swift scripts/regen-onnx.sh
#
# The generated types stay internal to GearboxEngine (Visibility=Internal): other modules read and
# write ONNX through the engine's own API (ONNXModelBuilder, Tensor TensorProto I/O).
set -euo pipefail
cd "$(dirname "$0")/.."
plugin="${PROTOC_GEN_SWIFT:-$(command -v protoc-gen-swift || true)}"
if [[ -z "$plugin" || ! -x "$plugin" ]]; then
    echo "regen-onnx: protoc-gen-swift not found; set PROTOC_GEN_SWIFT (see the comment at the top)" >&2
    exit 2
fi
command -v protoc >/dev/null || { echo "regen-onnx: protoc not found; apt-get install protobuf-compiler" >&2; exit 2; }
protoc --plugin=protoc-gen-swift="$plugin" \
    --proto_path=Protos/onnx \
    --swift_opt=Visibility=Internal \
    --swift_out=Sources/GearboxEngine/ONNX \
    Protos/onnx/onnx.proto
echo "regenerated Sources/GearboxEngine/ONNX/onnx.pb.swift with $(protoc --version)"
