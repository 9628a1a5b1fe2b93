// GearboxEngine/TensorLayout: the memory order of a 4-D activation. Values keep their logical
// ONNX shape [N, C, H, W] everywhere in the compiler; the layout says how its floats are laid
// out in the arena. Gearbox's own kernels read and write NCHW; runs of layers XNNPACK executes
// keep NHWC between them (see `LayoutPlanner`).

enum TensorLayout: Sendable, Equatable {
    case nchw
    case nhwc

    /// Whether both layouts of `shape` are the same bytes: rank-4 tensors with one pixel per
    /// channel (a global pool's output) or one channel, which need no conversion.
    static func isLayoutFree(_ shape: [Int]) -> Bool {
        shape.count != 4 || shape[2] * shape[3] == 1 || shape[1] == 1
    }
}
