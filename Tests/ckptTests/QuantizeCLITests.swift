import CheckpointCore
import CheckpointKit
import CheckpointTestSupport
import Foundation
import XCTest

final class QuantizeCLITests: XCTestCase {
  private let transformer = TestFixtures.path("gguf/models/transformer.safetensors")
  /// What the transformer's file does not record (its metadata gives nhead only): nn.Transformer's settings.
  private let settings = ["--activation", "relu", "--no-norm-first", "--eps", "1e-5"]
  private let seq2seq = TestFixtures.path("gguf/models/seq2seq_lstm.safetensors")

  /// `ckpt quantize --scheme q8_0 --json` writes GGUF with Q8_0 weights, the report names every
  /// tensor with its figures or kept reason, and the end-to-end check runs the transformer.
  func testQuantizeQ8_0ReportAndEndToEnd() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let out = folder + "/t.gguf"
      let result = try TestFixtures.runCkpt(
        ["quantize", transformer, out, "--scheme", "q8_0", "--json"] + settings)
      XCTAssertEqual(result.status, 0, result.stderr)
      let json = try JSONValue.parse(Array(result.stdout.utf8))
      XCTAssertEqual(json["scheme"]?.stringValue, "q8_0")
      let tensors = try XCTUnwrap(json["tensors"]?.arrayValue)
      XCTAssertEqual(tensors.count, 64)
      let weight = try XCTUnwrap(
        tensors.first { $0["name"]?.stringValue == "encoder.layers.0.linear1.weight" })
      XCTAssertEqual(weight["dtype_in"]?.stringValue, "F32")
      XCTAssertEqual(weight["dtype_out"]?.stringValue, "Q8_0")
      XCTAssertNil(weight["kept_reason"])
      let bias = try XCTUnwrap(tensors.first { $0["name"]?.stringValue == "encoder.layers.0.linear1.bias" })
      XCTAssertEqual(bias["dtype_out"]?.stringValue, "F32")
      XCTAssertEqual(bias["kept_reason"]?.stringValue, "1-D tensor (biases, norms and scalars stay float)")
      let endToEnd = try XCTUnwrap(json["end_to_end"])
      XCTAssertEqual(endToEnd["architecture"]?.stringValue, "transformer")
      guard case .double(let cosine)? = endToEnd["cosine_similarity"] else { return XCTFail("no cosine") }
      XCTAssertGreaterThan(cosine, 0.999)

      // The file holds gguf-py's Q8_0 of the original weights; every figure matches a recomputation.
      let written = try FormatRegistry.read(path: out)
      let original = try FormatRegistry.read(path: transformer)
      let q = try XCTUnwrap(written["encoder.layers.0.linear1.weight"])
      XCTAssertEqual(q.dtype, .q8_0)
      XCTAssertEqual(q.shape, try XCTUnwrap(original["encoder.layers.0.linear1.weight"]).shape)
      XCTAssertEqual(written.metadata["ckpt.quantization"], "q8_0")
    }
  }

  /// --exclude keeps matching tensors; rows not a multiple of 32 are kept with the reason.
  func testExcludeAndKeptReasons() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let result = try TestFixtures.runCkpt([
        "quantize", seq2seq, folder + "/s.gguf", "--scheme", "q4_0", "--exclude", "^decoder\\.out", "--json",
      ])
      XCTAssertEqual(result.status, 0, result.stderr)
      let tensors = try XCTUnwrap(try JSONValue.parse(Array(result.stdout.utf8))["tensors"]?.arrayValue)
      let out = try XCTUnwrap(tensors.first { $0["name"]?.stringValue == "decoder.out.weight" })
      XCTAssertEqual(out["kept_reason"]?.stringValue, "excluded by --exclude")
      let embedding = try XCTUnwrap(tensors.first { $0["name"]?.stringValue == "encoder.embedding.weight" })
      XCTAssertEqual(embedding["dtype_out"]?.stringValue, "Q4_0")
    }
  }

  /// Q8_0 into safetensors is refused; converting a quantized GGUF to safetensors dequantizes
  /// Q8_0 to F32 with a warning, and GGUF → .ckz keeps the blocks.
  func testConvertDequantizesForFormatsWithoutBlocks() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let refused = try TestFixtures.runCkpt([
        "quantize", seq2seq, folder + "/x.safetensors", "--scheme", "q8_0",
      ])
      XCTAssertNotEqual(refused.status, 0)
      XCTAssertTrue(refused.stderr.contains("cannot store Q8_0 blocks"), refused.stderr)

      let gguf = folder + "/s.gguf"
      XCTAssertEqual(
        try TestFixtures.runCkpt(["quantize", seq2seq, gguf, "--scheme", "q8_0", "--quiet"]).status, 0)
      let converted = try TestFixtures.runCkpt(["convert", gguf, folder + "/s.safetensors"])
      XCTAssertEqual(converted.status, 0, converted.stderr)
      XCTAssertTrue(converted.stderr.contains("dequantized 7 tensors to F32"), converted.stderr)
      let floats = try FormatRegistry.read(path: folder + "/s.safetensors")
      XCTAssertTrue(floats.tensors.allSatisfy { $0.dtype == .f32 })

      let ckz = try TestFixtures.runCkpt(["convert", gguf, folder + "/s.ckz"])
      XCTAssertEqual(ckz.status, 0, ckz.stderr)
      let blocks = try FormatRegistry.read(path: folder + "/s.ckz")
      let quantized = try FormatRegistry.read(path: gguf)
      XCTAssertEqual(blocks.tensors.filter { $0.dtype == .q8_0 }.count, 7)
      for tensor in quantized.tensors {
        XCTAssertEqual(try blocks[tensor.name]?.load(), try tensor.load(), tensor.name)
      }
      // And back to GGUF: the same blocks again.
      XCTAssertEqual(
        try TestFixtures.runCkpt(["convert", folder + "/s.ckz", folder + "/back.gguf"]).status, 0)
      let back = try FormatRegistry.read(path: folder + "/back.gguf")
      for tensor in quantized.tensors {
        XCTAssertEqual(try back[tensor.name]?.load(), try tensor.load(), tensor.name)
      }
    }
  }

  /// `CKPT_SIMD` forces the scalar paths (`off`) or rules out AVX-512 (`no-avx512`): every
  /// scheme writes the same bytes and reports the same figures, and a `.ckz` (whose chunk
  /// CRCs take another path) is the same file.
  func testEveryVectorPolicyWritesTheSameBytes() throws {
    try TestFixtures.withTemporaryFolder { folder in
      func stripTimes(_ json: JSONValue) -> JSONValue {
        switch json {
        case .object(let pairs):
          return .object(
            pairs.filter { !$0.0.hasSuffix("seconds") && $0.0 != "output" }.map { ($0.0, stripTimes($0.1)) })
        case .array(let items): return .array(items.map(stripTimes))
        default: return json
        }
      }
      for (scheme, ext) in [
        ("q8_0", "gguf"), ("q4_0", "gguf"), ("int8", "safetensors"), ("f16", "safetensors"),
      ] {
        var outputs: [[UInt8]] = []
        var reports: [JSONValue] = []
        for policy in ["auto", "no-avx512", "off"] {
          let out = folder + "/\(scheme)-\(policy).\(ext)"
          let result = try TestFixtures.runCkpt(
            ["quantize", transformer, out, "--scheme", scheme, "--json"] + settings,
            environment: ["CKPT_SIMD": policy])
          XCTAssertEqual(result.status, 0, result.stderr)
          outputs.append(try Array(Data(contentsOf: URL(fileURLWithPath: out))))
          reports.append(stripTimes(try JSONValue.parse(Array(result.stdout.utf8))))
        }
        XCTAssertEqual(outputs[1], outputs[0], "\(scheme): no-avx512")
        XCTAssertEqual(outputs[2], outputs[0], "\(scheme): off")
        XCTAssertEqual(reports[1], reports[0], "\(scheme): no-avx512 report")
        XCTAssertEqual(reports[2], reports[0], "\(scheme): off report")
      }
      var archives: [[UInt8]] = []
      for policy in ["auto", "no-avx512", "off"] {
        let out = folder + "/m-\(policy).ckz"
        let result = try TestFixtures.runCkpt(
          ["convert", transformer, out, "--quiet"], environment: ["CKPT_SIMD": policy])
        XCTAssertEqual(result.status, 0, result.stderr)
        archives.append(try Array(Data(contentsOf: URL(fileURLWithPath: out))))
      }
      XCTAssertEqual(archives[1], archives[0], ".ckz: no-avx512")
      XCTAssertEqual(archives[2], archives[0], ".ckz: off")
    }
  }

  /// The thread count (Docs/determinism.md) changes no byte written: quantized tensors and .ckz
  /// chunks are each made alone.
  func testEveryThreadCountWritesTheSameBytes() throws {
    try TestFixtures.withTemporaryFolder { folder in
      for (arguments, ext) in [
        (["quantize", "--scheme", "q8_0", "--no-end-to-end"], "gguf"),
        (["quantize", "--scheme", "int8", "--no-end-to-end"], "safetensors"),
        (["convert"], "ckz"),
      ] {
        var outputs: [[UInt8]] = []
        for threads in ["1", "3", "8"] {
          let out = folder + "/\(arguments[0])-\(threads).\(ext)"
          let result = try TestFixtures.runCkpt(
            [arguments[0], transformer, out, "--quiet"] + arguments.dropFirst(),
            environment: ["OPENBLAS_NUM_THREADS": threads])
          XCTAssertEqual(result.status, 0, result.stderr)
          outputs.append(try Array(Data(contentsOf: URL(fileURLWithPath: out))))
        }
        XCTAssertEqual(outputs[1], outputs[0], "\(arguments) \(ext): 3 threads")
        XCTAssertEqual(outputs[2], outputs[0], "\(arguments) \(ext): 8 threads")
      }
    }
  }

  /// What is lost or not done is said even with --quiet: nothing quantized, blocks dequantized,
  /// metadata a format cannot hold.
  func testLossAndNoOpsAreSaidEvenWhenQuiet() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let none = try TestFixtures.runCkpt([
        "quantize", transformer, folder + "/t.gguf", "--scheme", "q8_0", "--exclude", ".*", "--quiet",
        "--no-end-to-end",
      ])
      XCTAssertEqual(none.status, 0, none.stderr)
      XCTAssertTrue(none.stderr.contains("no tensor was quantized to Q8_0"), none.stderr)
      let q = try TestFixtures.runCkpt([
        "quantize", transformer, folder + "/q.gguf", "--scheme", "q8_0", "--quiet", "--no-end-to-end",
      ])
      XCTAssertEqual(q.status, 0, q.stderr)
      XCTAssertFalse(q.stderr.contains("no tensor was quantized"), q.stderr)
      let dequantized = try TestFixtures.runCkpt(["convert", folder + "/q.gguf", folder + "/d.pt", "--quiet"])
      XCTAssertEqual(dequantized.status, 0, dequantized.stderr)
      XCTAssertTrue(dequantized.stderr.contains("dequantized"), dequantized.stderr)
      XCTAssertTrue(dequantized.stderr.contains("cannot store metadata; dropped"), dequantized.stderr)
    }
  }

  /// int8 writes NAME (I8) and NAME.scale (F32 per row) and lists the names in the metadata.
  func testInt8StoresScales() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let out = folder + "/t.safetensors"
      let result = try TestFixtures.runCkpt(["quantize", transformer, out, "--scheme", "int8", "--quiet"])
      XCTAssertEqual(result.status, 0, result.stderr)
      let written = try FormatRegistry.read(path: out)
      let weight = try XCTUnwrap(written["encoder.layers.0.linear1.weight"])
      XCTAssertEqual(weight.dtype, .i8)
      XCTAssertEqual(weight.shape, [64, 32])
      let scale = try XCTUnwrap(written["encoder.layers.0.linear1.weight.scale"])
      XCTAssertEqual(scale.dtype, .f32)
      XCTAssertEqual(scale.shape, [64])
      XCTAssertTrue(
        written.metadata["ckpt.int8_tensors"]?.contains("\"encoder.layers.0.linear1.weight\"") ?? false)
    }
  }

  /// A .ckz source's provenance (`ckz.*`) describes that file: a quantized copy does not carry
  /// it as metadata, while the source's own metadata and the quantization's are kept.
  func testQuantizingACKZFileDoesNotCarryItsProvenance() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let source = folder + "/t.ckz"
      XCTAssertEqual(try TestFixtures.runCkpt(["convert", transformer, source, "--quiet"]).status, 0)
      let read = try FormatRegistry.read(path: source)
      XCTAssertNotNil(read.metadata["ckz.source_sha256"])
      for output in ["/q.safetensors", "/q.ckz"] {
        let result = try TestFixtures.runCkpt([
          "quantize", source, folder + output, "--scheme", "f16", "--quiet",
        ])
        XCTAssertEqual(result.status, 0, result.stderr)
        let written = try FormatRegistry.read(path: folder + output)
        XCTAssertEqual(written.metadata["ckpt.quantization"], "f16", output)
        for (key, value) in read.metadata where !key.hasPrefix("ckz.") {
          XCTAssertEqual(written.metadata[key], value, "\(output): \(key)")
        }
        if output.hasSuffix(".ckz") {
          // The new file's own provenance: its source is t.ckz.
          XCTAssertEqual(written.metadata["ckz.source_format"], "ckz")
          XCTAssertNotEqual(written.metadata["ckz.source_sha256"], read.metadata["ckz.source_sha256"])
        } else {
          XCTAssertEqual(written.metadata.keys.filter { $0.hasPrefix("ckz.") }, [], output)
        }
      }
    }
  }

  /// The text report is a table with one line per tensor and the end-to-end line.
  func testTextReport() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let result = try TestFixtures.runCkpt(["quantize", seq2seq, folder + "/s.gguf", "--scheme", "bf16"])
      XCTAssertEqual(result.status, 0, result.stderr)
      let lines = result.stdout.split(separator: "\n").map(String.init)
      XCTAssertTrue(lines.first?.hasPrefix("TENSOR") ?? false, result.stdout)
      XCTAssertTrue(
        lines.contains { $0.hasPrefix("decoder.out.weight") && $0.contains("BF16") }, result.stdout)
      XCTAssertTrue(lines.contains { $0.hasPrefix("end to end (seq2seq-lstm") }, result.stdout)
    }
  }

  /// `ckpt run` takes quantized weights (int8 with scales here) and stays close to torch's outputs.
  func testRunOnQuantizedWeights() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let model = TestFixtures.path("engine/transformer_pytorch.safetensors")
      let quantized = folder + "/t.gguf"
      let q = try TestFixtures.runCkpt([
        "quantize", model, quantized, "--scheme", "int8", "--heads", "2", "--activation", "relu",
        "--no-norm-first", "--eps", "1e-5", "--quiet",
      ])
      XCTAssertEqual(q.status, 0, q.stderr)
      let run = try TestFixtures.runCkpt([
        "run", quantized, "--arch", "transformer", "--heads", "2", "--activation", "relu", "--no-norm-first",
        "--eps", "1e-5",
        "--inputs", TestFixtures.path("engine/transformer_pytorch.inputs.npz"), "--output", folder + "/o.npz",
      ])
      XCTAssertEqual(run.status, 0, run.stderr)
      let out = try XCTUnwrap(try FormatRegistry.read(path: folder + "/o.npz")["out"])
      let reference = try XCTUnwrap(
        try FormatRegistry.read(path: TestFixtures.path("engine/transformer_pytorch.outputs.npz"))["out"])
      let a = try out.load().array
      let b = try reference.load().array
      XCTAssertEqual(a.count, b.count)
      var worst: Float = 0
      for i in stride(from: 0, to: min(a.count, b.count), by: 4) {
        let x = Float(
          bitPattern: UInt32(a[i]) | UInt32(a[i + 1]) << 8 | UInt32(a[i + 2]) << 16 | UInt32(a[i + 3]) << 24)
        let y = Float(
          bitPattern: UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24)
        worst = max(worst, abs(x - y))
      }
      XCTAssertGreaterThan(worst, 0)
      XCTAssertLessThan(worst, 0.05)
    }
  }
}
