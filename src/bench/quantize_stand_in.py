#!/usr/bin/python3
"""Writes onnx/model_quantized.onnx next to a make_bert.py stand-in: the int8 file transformers.js loads by default.

Mirrors how the published Xenova models were quantized (ONNX Runtime dynamic "IntegerOps" quantization,
as in transformers.js scripts/quantize.py for BERT): int8 weights per output channel with the reduced
7-bit range, uint8 activations quantized at run time, embedding tables int8. ONNX Runtime fuses the
MatMul pattern below into the same kernels it uses for the real quantized model, so speed and memory
match the default model's, which is what the benchmark needs. Weights stay random.

Usage: quantize_stand_in.py MODEL_DIR   (needs Debian's python3-onnx and python3-numpy)
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

model_dir = sys.argv[1]
src = os.path.join(model_dir, 'onnx', 'model.onnx')
dst = os.path.join(model_dir, 'onnx', 'model_quantized.onnx')
model = onnx.load(src)
graph = model.graph
inits = {t.name: t for t in graph.initializer}
replaced = set()
added = []
nodes = []
# One run-time quantization per activation, shared by the MatMuls reading it (Q, K and V read the same input).
quantized_inputs = {}


def quantize_input(name):
    if name not in quantized_inputs:
        out = [name + '_q', name + '_q_scale', name + '_q_zero']
        nodes.append(helper.make_node('DynamicQuantizeLinear', [name], out))
        quantized_inputs[name] = out
    return quantized_inputs[name]


for node in graph.node:
    if node.op_type == 'MatMul' and node.input[1] in inits and len(inits[node.input[1]].dims) == 2:
        w_name = node.input[1]
        w = numpy_helper.to_array(inits[w_name])
        # Per output channel, symmetric, 7-bit range ("reduce_range"), as for the published BERT models.
        scale = (np.maximum(np.abs(w).max(axis=0), 1e-12) / 63.0).astype(np.float32)
        q = np.clip(np.round(w / scale), -64, 63).astype(np.int8)
        added += [
            numpy_helper.from_array(q, w_name + '_quantized'),
            numpy_helper.from_array(scale, w_name + '_scale'),
            numpy_helper.from_array(np.zeros(w.shape[1], np.int8), w_name + '_zero_point'),
        ]
        replaced.add(w_name)
        x_q, x_scale, x_zero = quantize_input(node.input[0])
        y = node.output[0]
        nodes += [
            helper.make_node('MatMulInteger', [x_q, w_name + '_quantized', x_zero, w_name + '_zero_point'], [y + '_int32']),
            helper.make_node('Cast', [y + '_int32'], [y + '_float'], to=TensorProto.FLOAT),
            helper.make_node('Mul', [x_scale, w_name + '_scale'], [y + '_scale']),
            helper.make_node('Mul', [y + '_float', y + '_scale'], [y]),
        ]
    elif node.op_type == 'Gather' and node.input[0] in inits and len(inits[node.input[0]].dims) == 2:
        # Embedding tables: gather int8 rows, dequantize only what was gathered.
        t_name = node.input[0]
        t = numpy_helper.to_array(inits[t_name])
        scale = np.float32(max(float(np.abs(t).max()), 1e-12) / 127.0)
        q = np.clip(np.round(t / scale), -127, 127).astype(np.int8)
        added += [
            numpy_helper.from_array(q, t_name + '_quantized'),
            numpy_helper.from_array(np.array(scale, np.float32), t_name + '_scale'),
            numpy_helper.from_array(np.array(0, np.int8), t_name + '_zero_point'),
        ]
        replaced.add(t_name)
        y = node.output[0]
        nodes += [
            helper.make_node('Gather', [t_name + '_quantized', node.input[1]], [y + '_quantized'], axis=0),
            helper.make_node('DequantizeLinear', [y + '_quantized', t_name + '_scale', t_name + '_zero_point'], [y]),
        ]
    else:
        nodes.append(node)

kept = [t for t in graph.initializer if t.name not in replaced]
out_graph = helper.make_graph(nodes, graph.name, graph.input, graph.output, kept + added)
out = helper.make_model(out_graph, opset_imports=model.opset_import, producer_name='quantize_stand_in')
out.ir_version = model.ir_version
onnx.checker.check_model(out)
onnx.save(out, dst)
print(f'{dst}: {os.path.getsize(dst) / 1e6:.1f} MB')
