# Gearbox's onnxruntime baseline: same model file, same input, same timing method.
import sys, json, time
try:
    import numpy as np
    import onnxruntime as ort
    from onnx import numpy_helper, TensorProto
except ImportError as e:
    print(json.dumps({"error": "missing Python package: %s (pip install onnxruntime onnx numpy)" % e.name})); sys.exit(0)
model, input_path, output_path, threads, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
t = TensorProto(); t.ParseFromString(open(input_path, "rb").read())
x = numpy_helper.to_array(t)
so = ort.SessionOptions()
so.intra_op_num_threads = threads
so.inter_op_num_threads = 1
so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
name = sess.get_inputs()[0].name
feed = {name: x}
for _ in range(max(3, runs // 10)):
    y = sess.run(None, feed)
import math
def p50(samples):
    samples.sort()
    return samples[max(0, math.ceil(0.5 * len(samples)) - 1)]
wall = []
for _ in range(runs):
    s = time.perf_counter_ns(); sess.run(None, feed); wall.append(time.perf_counter_ns() - s)
cpu = []
for _ in range(runs):
    s = time.thread_time_ns(); sess.run(None, feed); cpu.append(time.thread_time_ns() - s)
open(output_path, "wb").write(numpy_helper.from_array(np.ascontiguousarray(y[0], dtype=np.float32)).SerializeToString())
print(json.dumps({"p50Ns": p50(wall), "cpuP50Ns": p50(cpu), "samples": len(wall), "version": ort.__version__}))
