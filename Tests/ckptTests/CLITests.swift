import CheckpointCore
import CheckpointTestSupport
import Foundation
import XCTest

final class CLITests: XCTestCase {
  /// Shell completions list the values of --arch, --layout and --format.
  func testCompletionsListTheValues() throws {
    for shell in ["bash", "zsh", "fish"] {
      let result = try TestFixtures.runCkpt(["--generate-completion-script", shell])
      XCTAssertEqual(result.status, 0, result.stderr)
      for value in [
        "seq2seq-lstm", "transformer-encoder", "hf-bert", "keras3", "keras-archive", "safetensors-sharded",
      ] {
        XCTAssertTrue(result.stdout.contains(value), "\(shell): \(value)")
      }
    }
  }

  /// An invalid value is a usage error (exit 64) listing the valid ones; with --json the error is
  /// also a JSON object on standard output.
  func testInvalidValuesAreUsageErrors() throws {
    for (arguments, listed) in [
      (
        ["run", "m.safetensors", "--arch", "mamba", "--inputs", "i.npz", "--output", "o.npz"], "seq2seq-lstm"
      ),
      (["convert", "a.safetensors", "b.safetensors", "--layout", "caffe"], "hf-bart"),
      (["inspect", "a.bin", "--format", "tflite"], "safetensors-sharded"),
      (["quantize", "a.safetensors", "b.gguf", "--scheme", "q2_k"], "q4_0"),
    ] {
      let result = try TestFixtures.runCkpt(arguments)
      XCTAssertEqual(result.status, 64, "\(arguments): \(result.stderr)")
      XCTAssertTrue(result.stderr.contains("is invalid for"), result.stderr)
      XCTAssertTrue(result.stderr.contains(listed), result.stderr)
    }
    let json = try TestFixtures.runCkpt([
      "run", "m.safetensors", "--arch", "mamba", "--inputs", "i.npz", "--output", "o.npz", "--json",
    ])
    XCTAssertEqual(json.status, 64, json.stderr)
    let error = try JSONValue.parse(Array(json.stdout.utf8))["error"]
    XCTAssertEqual(error?["kind"]?.stringValue, "usage")
    XCTAssertTrue(
      error?["message"]?.stringValue?.hasPrefix("The value 'mamba' is invalid for '--arch <arch>'") ?? false,
      json.stdout)
    // Checks of the flags before running are usage errors too, in JSON as well.
    let compress = try TestFixtures.runCkpt(["convert", "a.npz", "b.ckz", "--compress", "zstd", "--json"])
    XCTAssertEqual(compress.status, 64, compress.stderr)
    XCTAssertEqual(
      try JSONValue.parse(Array(compress.stdout.utf8))["error"]?["message"]?.stringValue,
      "unknown compression 'zstd' (use none, zlib or zlib:1..9)")
    let same = try TestFixtures.runCkpt(["convert", "a.npz", "./a.npz"])
    XCTAssertEqual(same.status, 64, same.stderr)
    XCTAssertTrue(same.stderr.contains("a.npz: output is the input file; choose another name"), same.stderr)
    let blocks = try TestFixtures.runCkpt(["quantize", "a.safetensors", "b.npz", "--scheme", "q8_0"])
    XCTAssertEqual(blocks.status, 64, blocks.stderr)
    XCTAssertTrue(blocks.stderr.contains("b.npz: npz files cannot store Q8_0 blocks"), blocks.stderr)
    for arguments in [
      ["diff", "a.npz", "b.npz", "--rtol", "-1"], ["diff", "a.npz", "b.npz", "--heads", "0"],
    ] {
      let result = try TestFixtures.runCkpt(arguments)
      XCTAssertEqual(result.status, 64, "\(arguments): \(result.stderr)")
    }
    // A data problem is not a usage error.
    let missing = try TestFixtures.runCkpt(["inspect", "/nonexistent/model.safetensors", "--json"])
    XCTAssertEqual(missing.status, 1, missing.stderr)
    XCTAssertEqual(try JSONValue.parse(Array(missing.stdout.utf8))["error"]?["kind"]?.stringValue, "io")
  }

  /// Every spelling accepted before the values were enums still is: any case, and aliases.
  func testOtherSpellingsAreStillAccepted() throws {
    for arguments in [
      ["run", "/nonexistent/m.safetensors", "--arch", "LSTM", "--inputs", "i.npz", "--output", "o.npz"],
      ["convert", "/nonexistent/a.safetensors", "/nonexistent/b.h5", "--layout", "Keras2"],
      [
        "convert", "/nonexistent/a.safetensors", "/nonexistent/b.h5", "--layout", "HF-BERT", "--from-layout",
        "PyTorch",
      ],
      ["inspect", "/nonexistent/a.bin", "--format", "NPZ"],
      ["quantize", "/nonexistent/a.safetensors", "/nonexistent/b.gguf", "--scheme", "Q8_0"],
    ] {
      let result = try TestFixtures.runCkpt(arguments)
      XCTAssertEqual(result.status, 1, "\(arguments): \(result.stderr)")
      XCTAssertTrue(result.stderr.contains("/nonexistent/"), result.stderr)
    }
  }

  func testHelpListsTheValues() throws {
    for (command, values) in [
      ("convert", "(values: pytorch, keras, keras3, hf, hf-bert, hf-bart)"),
      ("convert", "(values: safetensors, safetensors-sharded, pytorch, npy, npz, ckz, gguf, hdf5, keras,"),
      ("quantize", "(values: f16, bf16, int8, q8_0, q4_0)"),
      ("verify", "(values: lstm, gru, transformer-encoder, transformer, seq2seq-lstm)"),
    ] {
      let help = try TestFixtures.runCkpt([command, "--help"])
      // Help wraps its lines; compare with single spaces.
      let text = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
      XCTAssertTrue(text.contains(values), "\(command): \(values)\n\(help.stdout)")
    }
  }

  /// One thread count for every parallel loop: the variables, else the processors available
  /// (the affinity mask, when `taskset` is there to set one).
  func testThreadCountFollowsTheVariablesAndTheAffinityMask() throws {
    let model = TestFixtures.path("engine/lstm_pytorch.safetensors")
    let arguments = ["__quantize-kernels", model, "--scheme", "f16", "--repeats", "1"]
    func threads(_ result: TestFixtures.RunResult) throws -> Int? {
      XCTAssertEqual(result.status, 0, result.stderr)
      return try JSONValue.parse(Array(result.stdout.utf8))["threads"]?.intValue
    }
    XCTAssertEqual(try threads(TestFixtures.runCkpt(arguments)), Processors.threads)
    XCTAssertEqual(try threads(TestFixtures.runCkpt(arguments, environment: ["OMP_NUM_THREADS": "5"])), 5)
    XCTAssertEqual(
      try threads(
        TestFixtures.runCkpt(arguments, environment: ["OPENBLAS_NUM_THREADS": "3", "OMP_NUM_THREADS": "5"])),
      3)
    let taskset = "/usr/bin/taskset"
    guard FileManager.default.isExecutableFile(atPath: taskset) else { return }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: taskset)
    process.arguments = ["-c", "0", TestFixtures.ckptExecutable] + arguments
    process.environment = ProcessInfo.processInfo.environment.filter {
      !Processors.environmentVariables.contains($0.key)
    }
    let out = Pipe()
    process.standardOutput = out
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    XCTAssertEqual(try JSONValue.parse(Array(data))["threads"]?.intValue, 1)
  }

  func testVersionAndHelp() throws {
    let version = try TestFixtures.runCkpt(["--version"])
    XCTAssertEqual(version.status, 0)
    XCTAssertEqual(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "0.1.0")
    let help = try TestFixtures.runCkpt(["--help"])
    XCTAssertTrue(help.stdout.contains("inspect"), help.stdout)
    XCTAssertTrue(help.stdout.contains("convert"), help.stdout)
  }

  func testMissingFileIsAClearError() throws {
    let result = try TestFixtures.runCkpt(["inspect", "/nonexistent/model.safetensors"])
    XCTAssertEqual(result.status, 1)
    XCTAssertTrue(result.stderr.contains("/nonexistent/model.safetensors"), result.stderr)
    XCTAssertTrue(result.stderr.contains("No such file"), result.stderr)
  }

  func testFormatsOtherThanHDF5NeedNeitherLibhdf5NorBLAS() throws {
    // Both are loaded on first use: with neither loadable, everything else still works.
    let missing = ["CKPT_LIBHDF5": "/nonexistent/libhdf5.so", "CKPT_LIBBLAS": "/nonexistent/libblas.so"]
    try TestFixtures.withTemporaryFolder { folder in
      let source = TestFixtures.path("safetensors/dtypes.safetensors")
      for (arguments, label) in [
        (["convert", source, folder + "/a.ckz", "--quiet"], "convert to .ckz"),
        (["convert", folder + "/a.ckz", folder + "/b.npz", "--quiet"], "convert to .npz"),
        (["inspect", "--json", folder + "/b.npz"], "inspect"),
        (["check", folder + "/a.ckz"], "check"),
        (["diff", source, folder + "/b.npz"], "diff"),
      ] {
        let result = try TestFixtures.runCkpt(arguments, environment: missing)
        XCTAssertEqual(result.status, 0, "\(label): \(result.stderr)")
      }
    }
  }
}
