internal import CZlib
import CheckpointCore

/// An inflate stream fed in pieces, for reading the start of compressed
/// data without decompressing all of it. The zlib state is freed when the
/// stream is released.
public final class InflateStream {
  private var stream = z_stream()
  /// Whether the end of the compressed stream was reached.
  public private(set) var isFinished = false

  /// Starts a stream in the given framing.
  public init(framing: Zlib.Framing) throws {
    let status = ckz_inflateInit2(&stream, framing.windowBits)
    guard status == Z_OK else { throw CheckpointError(.io, "inflateInit failed (\(status))") }
  }

  deinit { inflateEnd(&stream) }

  /// Inflates from `input` into `output` until either is used up or the
  /// stream ends.
  ///
  /// - Returns: the number of input bytes consumed and output bytes produced.
  /// - Throws: `.corrupt` on invalid compressed data.
  public func inflate(
    _ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
  ) throws -> (consumed: Int, produced: Int) {
    guard !isFinished, output.count > 0 else { return (0, 0) }
    let inCount = min(input.count, Int(UInt32.max >> 1))
    let outCount = min(output.count, Int(UInt32.max >> 1))
    stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
    stream.avail_in = UInt32(inCount)
    stream.next_out = output.baseAddress?.assumingMemoryBound(to: UInt8.self)
    stream.avail_out = UInt32(outCount)
    let status = CZlib.inflate(&stream, Z_NO_FLUSH)
    switch status {
    case Z_OK, Z_BUF_ERROR:
      break
    case Z_STREAM_END:
      isFinished = true
    default:
      let reason = stream.msg.map { String(cString: $0) } ?? "error \(status)"
      throw CheckpointError(.corrupt, "invalid compressed data: \(reason)")
    }
    return (inCount - Int(stream.avail_in), outCount - Int(stream.avail_out))
  }
}

extension Zlib {
  /// Decompresses the first `count` bytes of a compressed stream, pulling
  /// compressed input through `source` (which returns an empty array at the end).
  ///
  /// - Returns: up to `count` bytes: fewer only when the stream ends first.
  /// - Throws: `.corrupt` on invalid data or when the input ends before the stream.
  public static func decompressPrefix(
    count: Int, framing: Framing = .raw, source: () throws -> [UInt8]
  ) throws -> [UInt8] {
    let stream = try InflateStream(framing: framing)
    var output = [UInt8](repeating: 0, count: count)
    var produced = 0
    var pending: [UInt8] = []
    var pendingStart = 0
    while produced < count && !stream.isFinished {
      if pendingStart == pending.count {
        pending = try source()
        pendingStart = 0
        guard !pending.isEmpty else {
          throw CheckpointError(.corrupt, "compressed data ends early after \(produced) bytes")
        }
      }
      let step = try pending.withUnsafeBytes { input in
        try output.withUnsafeMutableBytes { out in
          try stream.inflate(
            UnsafeRawBufferPointer(rebasing: input[pendingStart...]),
            into: UnsafeMutableRawBufferPointer(rebasing: out[produced...]))
        }
      }
      pendingStart += step.consumed
      produced += step.produced
      if step.consumed == 0 && step.produced == 0 && !stream.isFinished && pendingStart < pending.count {
        throw CheckpointError(.corrupt, "compressed data makes no progress after \(produced) bytes")
      }
    }
    output.removeLast(count - produced)
    return output
  }
}
