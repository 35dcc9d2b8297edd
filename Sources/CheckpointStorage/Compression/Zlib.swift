internal import CZlib
import CheckpointCore

/// zlib through the `CZlib` system library: CRC-32 and deflate/inflate in
/// raw (zip, no header) or zlib-wrapped form.
public enum Zlib {
  /// Which framing a stream uses.
  public enum Framing: Sendable {
    /// Raw deflate, as inside zip entries.
    case raw
    /// zlib header and Adler-32 trailer.
    case zlib

    var windowBits: Int32 { self == .raw ? -15 : 15 }
  }

  /// The CRC-32 (zip/PNG polynomial) of `bytes`, continuing from `seed`.
  ///
  /// On x86-64 CPUs with PCLMULQDQ, whole 16-byte blocks are folded by
  /// carry-less multiplication (several times faster than zlib 1.2's tables),
  /// 64 bytes per step, or 256 with AVX-512 VPCLMULQDQ; zlib computes the rest.
  /// All give the same value (`CRCPath`; `CKPT_SIMD` rules paths out).
  public static func crc32(_ bytes: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
    crc32(bytes, seed: seed, path: crcPath)
  }

  /// The ways of computing a CRC-32, each giving the same value.
  enum CRCPath: CaseIterable, Sendable {
    /// zlib's tables, byte by byte: every CPU.
    case table
    /// PCLMULQDQ, 64 bytes per step.
    case fold
    /// AVX-512 VPCLMULQDQ, 256 bytes per step for runs of 1 KiB and more (shorter runs fold).
    case wideFold

    /// Whether this CPU can run the path.
    var isAvailable: Bool {
      switch self {
      case .table: return true
      case .fold: return ckz_crc32_fold_available() != 0
      case .wideFold: return ckz_crc32_wide_fold_available() != 0
      }
    }
  }

  /// The path ``crc32(_:seed:)-(UnsafeRawBufferPointer,_)`` takes: the fastest this CPU has
  /// that `CKPT_SIMD` allows.
  static let crcPath: CRCPath = {
    let policy = SIMDPolicy.current
    if policy.allowsAVX512, CRCPath.wideFold.isAvailable { return .wideFold }
    if policy.allowsVectors, CRCPath.fold.isAvailable { return .fold }
    return .table
  }()

  /// The CRC-32 of `bytes` by `path`, which this CPU must be able to run.
  static func crc32(_ bytes: UnsafeRawBufferPointer, seed: UInt32, path: CRCPath) -> UInt32 {
    var crc = UInt(seed)
    var base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
    var left = bytes.count
    if path != .table, left >= 64, let pointer = base {
      let blocks = left & ~15
      let register =
        path == .wideFold && blocks >= 1024
        ? ckz_crc32_wide_fold_update(~seed, pointer, blocks) : ckz_crc32_fold_update(~seed, pointer, blocks)
      crc = UInt(~register)
      base = pointer + blocks
      left -= blocks
    }
    return zlibCRC32(base, count: left, seed: crc)
  }

  /// zlib's own CRC-32 of `count` bytes at `base`, continuing from `seed`.
  static func zlibCRC32(_ base: UnsafePointer<UInt8>?, count: Int, seed: UInt) -> UInt32 {
    var crc = seed
    var base = base
    var left = count
    while left > 0, let pointer = base {
      let chunk = min(left, Int(UInt32.max >> 1))
      crc = CZlib.crc32(crc, pointer, UInt32(chunk))
      base = pointer + chunk
      left -= chunk
    }
    return UInt32(truncatingIfNeeded: crc)
  }

  /// The CRC-32 of `bytes`, continuing from `seed`.
  public static func crc32(_ bytes: [UInt8], seed: UInt32 = 0) -> UInt32 {
    bytes.withUnsafeBytes { crc32($0, seed: seed) }
  }

  /// The CRC-32 of a tensor's bytes.
  public static func crc32(_ bytes: TensorBytes, seed: UInt32 = 0) -> UInt32 {
    bytes.withUnsafeBytes { crc32($0, seed: seed) }
  }

  /// An upper bound of the compressed size of `count` bytes.
  public static func compressBound(_ count: Int) -> Int {
    // deflateBound for the default memLevel, plus the zlib header and trailer.
    count + (count >> 12) + (count >> 14) + (count >> 25) + 13 + 6
  }

  /// Compresses `input` in one call.
  public static func compress(
    _ input: UnsafeRawBufferPointer, level: Int, framing: Framing = .zlib
  ) throws -> [UInt8] {
    let stream = try DeflateStream(level: level, framing: framing)
    var output: [UInt8] = []
    output.reserveCapacity(compressBound(input.count))
    try stream.compress(input, finish: true) { output.append(contentsOf: $0) }
    return output
  }

  /// Decompresses `input` into exactly `expectedCount` bytes written to `output`.
  ///
  /// - Throws: `.corrupt` when the data is invalid, ends early, would
  ///   produce more than `expectedCount` bytes, or has bytes after its end.
  public static func decompress(
    _ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
    framing: Framing = .zlib
  ) throws {
    var stream = z_stream()
    var status = ckz_inflateInit2(&stream, framing.windowBits)
    guard status == Z_OK else {
      throw CheckpointError(.io, "inflateInit failed (\(status))")
    }
    defer { inflateEnd(&stream) }
    var inputDone = 0
    var outputDone = 0
    repeat {
      let inChunk = min(input.count - inputDone, Int(UInt32.max >> 1))
      let outChunk = min(output.count - outputDone, Int(UInt32.max >> 1))
      stream.next_in = UnsafeMutablePointer(
        mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self).advanced(by: inputDone))
      stream.avail_in = UInt32(inChunk)
      // A one-byte scratch area when the output is full lets zlib report
      // whether more data would follow (a size mismatch).
      var spare: UInt8 = 0
      if outChunk > 0 {
        stream.next_out = output.baseAddress!.assumingMemoryBound(to: UInt8.self) + outputDone
        stream.avail_out = UInt32(outChunk)
      } else {
        withUnsafeMutablePointer(to: &spare) { stream.next_out = $0 }
        stream.avail_out = 1
      }
      status = inflate(&stream, Z_NO_FLUSH)
      let consumed = inChunk - Int(stream.avail_in)
      let produced = (outChunk > 0 ? outChunk : 1) - Int(stream.avail_out)
      inputDone += consumed
      if outChunk == 0 && produced > 0 {
        throw CheckpointError(.corrupt, "compressed data expands past the declared \(output.count) bytes")
      }
      outputDone += produced
      switch status {
      case Z_OK, Z_BUF_ERROR:
        if consumed == 0 && produced == 0 {
          throw CheckpointError(
            .corrupt,
            "compressed data ends early: \(outputDone) of \(output.count) bytes decompressed")
        }
      case Z_STREAM_END:
        break
      default:
        let reason = stream.msg.map { String(cString: $0) } ?? "error \(status)"
        throw CheckpointError(.corrupt, "invalid compressed data: \(reason)", offset: inputDone)
      }
    } while status != Z_STREAM_END
    guard outputDone == output.count else {
      throw CheckpointError(
        .corrupt, "compressed data holds \(outputDone) bytes, \(output.count) were declared")
    }
    guard inputDone == input.count else {
      throw CheckpointError(
        .corrupt, "\(input.count - inputDone) bytes follow the end of the compressed data")
    }
  }
}

/// A deflate stream that compresses input in pieces and hands out output as
/// it is produced. The zlib state is freed when the stream is released.
public final class DeflateStream {
  private var stream = z_stream()
  private var scratch = [UInt8](repeating: 0, count: 1 << 18)

  /// Starts a stream at `level` (0–9) in the given framing.
  public init(level: Int, framing: Zlib.Framing) throws {
    guard (0...9).contains(level) else {
      throw CheckpointError(.invalidArgument, "zlib level must be 0...9, got \(level)")
    }
    let status = ckz_deflateInit2(&stream, Int32(level), framing.windowBits)
    guard status == Z_OK else { throw CheckpointError(.io, "deflateInit failed (\(status))") }
  }

  deinit { deflateEnd(&stream) }

  /// Compresses `input`; with `finish`, ends the stream. Output is passed to `sink`.
  public func compress(
    _ input: UnsafeRawBufferPointer, finish: Bool,
    sink: (UnsafeRawBufferPointer) throws -> Void
  ) throws {
    var done = 0
    repeat {
      let chunk = min(input.count - done, Int(UInt32.max >> 1))
      stream.next_in = UnsafeMutablePointer(
        mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self).advanced(by: done))
      stream.avail_in = UInt32(chunk)
      let last = finish && done + chunk == input.count
      var status: Int32
      repeat {
        let scratchCount = scratch.count
        status = scratch.withUnsafeMutableBytes { out -> Int32 in
          stream.next_out = out.baseAddress!.assumingMemoryBound(to: UInt8.self)
          stream.avail_out = UInt32(scratchCount)
          return deflate(&stream, last ? Z_FINISH : Z_NO_FLUSH)
        }
        guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
          throw CheckpointError(.io, "deflate failed (\(status))")
        }
        let produced = scratchCount - Int(stream.avail_out)
        if produced > 0 {
          try scratch.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) }
        }
      } while stream.avail_out == 0 || (last && status != Z_STREAM_END)
      done += chunk
    } while done < input.count
  }
}

extension Zlib {
  /// How deflate looks for repeated bytes.
  public enum Strategy: Sendable, Equatable {
    /// LZ77 matches searched as the level says.
    case `default`
    /// Only runs of the previous byte (distance 1), then Huffman coding:
    /// much faster than LZ77 search and often smaller on byte planes of numbers.
    case rle
    /// No matches at all: Huffman coding of single bytes.
    case huffmanOnly

    var value: Int32 {
      switch self {
      case .default: return Z_DEFAULT_STRATEGY
      case .rle: return Z_RLE
      case .huffmanOnly: return Z_HUFFMAN_ONLY
      }
    }
  }

  /// Compresses `input` into `output` in one pass, giving up as soon as the
  /// result cannot be smaller than the input.
  ///
  /// The first `probe` bytes are compressed and flushed first; when they do
  /// not shrink by at least `minimumSaving` (a fraction, e.g. `0.01`), the
  /// rest is not attempted. Output larger than `output.count` also gives up.
  ///
  /// - Returns: the number of compressed bytes written to `output`, or `nil`
  ///   when the data is better stored as it is.
  public static func compressIfSmaller(
    _ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, level: Int,
    framing: Framing = .raw, strategy: Strategy = .default, probe: Int = 64 << 10,
    minimumSaving: Double = 0.01
  ) throws -> Int? {
    guard (0...9).contains(level) else {
      throw CheckpointError(.invalidArgument, "zlib level must be 0...9, got \(level)")
    }
    guard input.count > 0, output.count > 0, input.count <= Int(UInt32.max >> 1),
      output.count <= Int(UInt32.max >> 1)
    else { return nil }
    var stream = z_stream()
    let status = ckz_deflateInit2(&stream, Int32(level), framing.windowBits)
    guard status == Z_OK else { throw CheckpointError(.io, "deflateInit failed (\(status))") }
    defer { deflateEnd(&stream) }
    if strategy != .default {
      let changed = deflateParams(&stream, Int32(level), strategy.value)
      guard changed == Z_OK else { throw CheckpointError(.io, "deflateParams failed (\(changed))") }
    }
    let inBase = UnsafeMutablePointer(mutating: input.baseAddress!.assumingMemoryBound(to: UInt8.self))
    stream.next_out = output.baseAddress!.assumingMemoryBound(to: UInt8.self)
    stream.avail_out = UInt32(output.count)
    var consumed = 0
    if probe > 0 && probe < input.count / 2 {
      stream.next_in = inBase
      stream.avail_in = UInt32(probe)
      let flushed = deflate(&stream, Z_SYNC_FLUSH)
      guard flushed == Z_OK, stream.avail_in == 0, stream.avail_out > 0 else { return nil }
      let produced = output.count - Int(stream.avail_out)
      if Double(produced) > Double(probe) * (1 - minimumSaving) { return nil }
      consumed = probe
    }
    stream.next_in = inBase + consumed
    stream.avail_in = UInt32(input.count - consumed)
    let finished = deflate(&stream, Z_FINISH)
    switch finished {
    case Z_STREAM_END:
      return output.count - Int(stream.avail_out)
    case Z_OK, Z_BUF_ERROR:
      return nil  // ran out of output space: not smaller
    default:
      throw CheckpointError(.io, "deflate failed (\(finished))")
    }
  }
}
