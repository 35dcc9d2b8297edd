import CheckpointCore

/// Turns quantized tensors back into float32.
public enum Dequantizer {
  /// A copy of `checkpoint` whose Q8_0/Q4_0 tensors load as F32 (lazily); also returns
  /// their names. Other tensors are unchanged.
  public static func dequantizingBlocks(_ checkpoint: Checkpoint) throws -> (Checkpoint, [String]) {
    var names: [String] = []
    var copy = checkpoint
    copy.tensors = try checkpoint.tensors.map { tensor in
      guard tensor.dtype.isBlockQuantized else { return tensor }
      names.append(tensor.name)
      return try floatTensor(tensor)
    }
    return (copy, names)
  }

  /// A copy of `checkpoint` where every quantized tensor is float32 again: Q8_0/Q4_0 blocks,
  /// F16/BF16 when `halves` is set, and int8 tensors listed under
  /// ``CheckpointQuantizer/int8TensorsKey`` (multiplied by their `.scale`, which is dropped).
  public static func dequantizingAll(_ checkpoint: Checkpoint, halves: Bool = true) throws -> Checkpoint {
    var int8Names = Set<String>()
    if let text = checkpoint.metadata[CheckpointQuantizer.int8TensorsKey],
      let list = (try? JSONValue.parse(Array(text.utf8)))?.arrayValue
    {
      int8Names = Set(list.compactMap(\.stringValue))
    }
    let scaleNames = Set(int8Names.map { $0 + CheckpointQuantizer.scaleSuffix })
    var tensors: [Tensor] = []
    for tensor in checkpoint.tensors where !scaleNames.contains(tensor.name) {
      if int8Names.contains(tensor.name), tensor.dtype == .i8,
        let scale = checkpoint[tensor.name + CheckpointQuantizer.scaleSuffix]
      {
        tensors.append(try int8Tensor(tensor, scale: scale))
      } else if tensor.dtype.isBlockQuantized || (halves && (tensor.dtype == .f16 || tensor.dtype == .bf16)) {
        tensors.append(try floatTensor(tensor))
      } else {
        tensors.append(tensor)
      }
    }
    var copy = checkpoint
    copy.tensors = tensors
    return copy
  }

  /// `tensor` decoded to F32.
  public static func floatTensor(_ tensor: Tensor) throws -> Tensor {
    let info = TensorInfo(name: tensor.name, dtype: .f32, shape: tensor.shape)
    let source = tensor
    return Tensor(info: info, byteCount: try info.byteCount()) {
      let values = try FloatDecoding.decode(try source.load(), dtype: source.dtype)
      return values.withUnsafeBytes { TensorBytes($0) }
    }
  }

  private static func int8Tensor(_ tensor: Tensor, scale: Tensor) throws -> Tensor {
    let info = TensorInfo(name: tensor.name, dtype: .f32, shape: tensor.shape)
    let rows = tensor.shape.first ?? 1
    return Tensor(info: info, byteCount: try info.byteCount()) {
      let q = try tensor.load()
      let scales = try FloatDecoding.decode(try scale.load(), dtype: scale.dtype)
      guard scales.count == rows else {
        throw CheckpointError(.invalidShape, "\(scale.name) has \(scales.count) scales for \(rows) rows")
      }
      let columns = rows == 0 ? 0 : q.count / rows
      var values = [Float](repeating: 0, count: q.count)
      q.withUnsafeBytes { raw in
        for row in 0..<rows {
          for column in 0..<columns {
            let index = row * columns + column
            values[index] = Int8Channel.dequantize(Int8(bitPattern: raw[index]), scale: scales[row])
          }
        }
      }
      return values.withUnsafeBytes { TensorBytes($0) }
    }
  }
}
