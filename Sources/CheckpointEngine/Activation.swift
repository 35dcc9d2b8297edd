import CheckpointModels
import Foundation

extension Activation {
  /// Applies the activation in place.
  func apply(_ values: inout [Float]) {
    values.withUnsafeMutableBufferPointer { buffer in
      switch self {
      case .relu:
        for index in buffer.indices { buffer[index] = max(buffer[index], 0) }
      case .gelu:
        let invSqrt2: Float = 0.707_106_781_186_547_5
        for index in buffer.indices {
          let x = buffer[index]
          buffer[index] = 0.5 * x * (1 + erff(x * invSqrt2))
        }
      case .geluTanh:
        let k: Float = 0.797_884_560_802_865_4  // √(2/π)
        for index in buffer.indices {
          let x = buffer[index]
          buffer[index] = 0.5 * x * (1 + tanhf(k * (x + 0.044_715 * x * x * x)))
        }
      }
    }
  }
}
