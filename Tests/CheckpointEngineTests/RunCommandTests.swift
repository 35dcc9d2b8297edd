import CheckpointCore
import CheckpointKit
import CheckpointModels
import CheckpointStorage
import CheckpointTestSupport
import XCTest

/// `ckpt run` end to end: the CLI contract, and errors that exit 1 with a clear message.
final class RunCommandTests: XCTestCase {
  private func run(_ name: String, model ext: String, extra: [String] = [], in folder: String) throws
    -> String
  {
    let fixture = try EngineFixtures.load(name)
    let output = folder + "/\(name).npz"
    let result = try TestFixtures.runCkpt(
      [
        "run", TestFixtures.path("engine/\(name)\(ext)"), "--arch", fixture.arch, "--inputs", fixture.inputs,
        "--output", output,
      ] + fixture.flags + extra)
    XCTAssertEqual(result.status, 0, result.stderr)
    let error = try EngineFixtures.assertMatches(
      try FormatRegistry.read(path: output), try FormatRegistry.read(path: fixture.outputs),
      label: "ckpt run \(name)\(ext)")
    print("ckpt run \(name)\(ext): max abs error \(error)")
    return result.stdout
  }

  func testRunMatchesFrameworkOutputsForEachArchitecture() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let stdout = try run("lstm_pytorch", model: ".pt", in: folder)
      XCTAssertTrue(stdout.contains("LSTM (pytorch): 2 layer(s) × 2 direction(s), input 6, hidden 4"), stdout)
      XCTAssertTrue(
        stdout.contains("wrote \(folder)/lstm_pytorch.npz: y [2, 5, 8], h_n [4, 2, 4], c_n [4, 2, 4]"), stdout
      )
      _ = try run("gru_keras2", model: ".h5", in: folder)
      _ = try run("encoder_post_relu_keras3", model: ".weights.h5", in: folder)
      _ = try run("transformer_pytorch", model: ".safetensors", in: folder)
      _ = try run("seq2seq_lstm_keras3", model: ".weights.h5", in: folder)
    }
  }

  func testRunWithoutBLASIsAClearError() throws {
    // The BLAS library is loaded on first use; CKPT_LIBBLAS names the library to load.
    try TestFixtures.withTemporaryFolder { folder in
      let fixture = try EngineFixtures.load("lstm_pytorch")
      let output = folder + "/out.npz"
      let result = try TestFixtures.runCkpt(
        [
          "run", TestFixtures.path("engine/lstm_pytorch.pt"), "--arch", fixture.arch, "--inputs",
          fixture.inputs, "--output", output,
        ] + fixture.flags,
        environment: ["CKPT_LIBBLAS": "/nonexistent/libopenblas.so.0"])
      XCTAssertEqual(result.status, 1, result.stderr)
      XCTAssertTrue(result.stderr.contains("cannot load BLAS: /nonexistent/libopenblas.so.0"), result.stderr)
      XCTAssertTrue(result.stderr.contains("set CKPT_LIBBLAS to its path"), result.stderr)
      XCTAssertFalse(FileManager.default.fileExists(atPath: output))
    }
  }

  func testHelpStatesTheContract() throws {
    let help = try TestFixtures.runCkpt(["run", "--help"])
    XCTAssertEqual(help.status, 0)
    for line in [
      "  lstm, gru            x [B,T,I] -> y [B,T,D*H], h_n [L*D,B,H] (+ c_n)",
      "  transformer-encoder  x [B,S,E], optional mask [B,S] (1 = keep) -> y",
      "  transformer          src [B,S,E], tgt [B,T,E] -> out [B,T,E]",
      "  seq2seq-lstm         src [B,S], tgt [B,T] tokens -> logits [B,T,V]",
      "USAGE: ckpt run <model> --arch <arch> --inputs <inputs> --output <output> [--heads <heads>] "
        + "[--activation <activation>] [--norm-first] [--no-norm-first] [--eps <eps>] [--strict]",
      "(values: relu, gelu, gelu_tanh)",
    ] {
      XCTAssertTrue(help.stdout.contains(line), "missing: \(line)\n\(help.stdout)")
    }
  }

  func testJSONOutput() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let stdout = try run("encoder_bert_hf", model: ".safetensors", extra: ["--json"], in: folder)
      let json = try JSONValue.parse(Array(stdout.utf8))
      XCTAssertEqual(json["arch"]?.stringValue, "transformer-encoder")
      XCTAssertEqual(json["layout"]?.stringValue, "hf-bert")
      XCTAssertEqual(json["outputs"]?.arrayValue?.first?["name"]?.stringValue, "y")
    }
  }

  private func assertFails(
    _ arguments: [String], status: Int32 = 1, message: String, file: StaticString = #filePath,
    line: UInt = #line
  ) throws {
    let result = try TestFixtures.runCkpt(arguments)
    XCTAssertEqual(result.status, status, result.stderr, file: file, line: line)
    XCTAssertTrue(result.stderr.contains(message), "stderr: \(result.stderr)", file: file, line: line)
  }

  func testErrorsExitOneWithAClearMessage() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let out = folder + "/out.npz"
      let lstm = TestFixtures.path("engine/lstm_pytorch.safetensors")
      let encoder = TestFixtures.path("engine/encoder_post_relu_pytorch.safetensors")
      let encoderInputs = TestFixtures.path("engine/encoder_post_relu_pytorch.inputs.npz")
      // Unknown architecture: a usage error (64) listing the architectures.
      try assertFails(
        ["run", lstm, "--arch", "mamba", "--inputs", encoderInputs, "--output", out], status: 64,
        message:
          "The value 'mamba' is invalid for '--arch <arch>'. Please provide one of 'lstm', 'gru', 'transformer-encoder', 'transformer' or 'seq2seq-lstm'."
      )
      // Shape mismatch: the encoder's x [2, 6, 8] fed to an LSTM with input size 6.
      try assertFails(
        [
          "run", encoder, "--arch", "transformer-encoder", "--inputs",
          TestFixtures.path("engine/lstm_pytorch.inputs.npz"),
          "--output", out, "--heads", "2", "--activation", "relu", "--no-norm-first", "--eps", "1e-5",
        ],
        message:
          "lstm_pytorch.inputs.npz: input 'x': expected shape [B, T, 8] (batch-first, B and T ≥ 1), got [2, 5, 6]"
      )
      // Missing module.
      try assertFails(
        ["run", lstm, "--arch", "transformer", "--inputs", encoderInputs, "--output", out],
        message: "lstm_pytorch.safetensors: no Transformer encoder layers found")
      // Heads not dividing E.
      try assertFails(
        [
          "run", encoder, "--arch", "transformer-encoder", "--inputs", encoderInputs, "--output", out,
          "--heads", "3", "--activation", "relu", "--no-norm-first", "--eps", "1e-5",
        ],
        message: "3 heads do not divide the attention width 8")
      XCTAssertFalse(FileManager.default.fileExists(atPath: out), "no output is written on failure")
    }
  }
}
