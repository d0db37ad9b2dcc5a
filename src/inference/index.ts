/**
 * Inference engine boundary (issue B). Pure: may import src/shared and src/core only; the
 * onnxruntime-node binding will live in `src/inference/ort/`, the only place that imports it.
 */
export const INFERENCE_API_VERSION = 0
