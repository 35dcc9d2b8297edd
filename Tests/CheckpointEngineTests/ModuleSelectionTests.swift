import CheckpointCore
import CheckpointKit
import CheckpointTestSupport
import XCTest

/// `--module PREFIX`: one module of a larger checkpoint, run and verified alone. The encoder LSTM
/// of the PyTorch seq2seq fixture matches torch's nn.LSTM with those weights run by itself
/// (Fixtures/modules, made by torch).
final class ModuleSelectionTests: XCTestCase {
  private let seq2seq = TestFixtures.path("engine/seq2seq_lstm_pytorch.safetensors")

  func testRunsOneModuleAndMatchesTheFrameworksModuleAlone() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let inputs = TestFixtures.path("modules/encoder_lstm.inputs.npz")
      let both = try TestFixtures.runCkpt([
        "run", seq2seq, "--arch", "lstm", "--inputs", inputs, "--output", folder + "/y.npz",
      ])
      XCTAssertEqual(both.status, 1)
      XCTAssertTrue(both.stderr.contains("found 2 LSTM modules"), both.stderr)
      XCTAssertTrue(both.stderr.contains("pass --module"), both.stderr)
      let one = try TestFixtures.runCkpt([
        "run", seq2seq, "--arch", "lstm", "--module", "encoder.lstm", "--inputs", inputs, "--output",
        folder + "/y.npz",
      ])
      XCTAssertEqual(one.status, 0, one.stderr)
      let got = try FormatRegistry.read(path: folder + "/y.npz")
      let want = try FormatRegistry.read(path: TestFixtures.path("modules/encoder_lstm.outputs.npz"))
      for name in ["y", "h_n", "c_n"] {
        let a = try TensorValues.floats(try XCTUnwrap(got[name], name))
        let b = try TensorValues.floats(try XCTUnwrap(want[name], name))
        XCTAssertEqual(a.count, b.count, name)
        XCTAssertLessThanOrEqual(zip(a, b).map { abs($0 - $1) }.max() ?? 1, 1e-5, name)
      }
      let unknown = try TestFixtures.runCkpt([
        "run", seq2seq, "--arch", "lstm", "--module", "encoder.rnn", "--inputs", inputs, "--output",
        folder + "/z.npz",
      ])
      XCTAssertEqual(unknown.status, 1)
      XCTAssertTrue(
        unknown.stderr.contains("the modules are: LSTM 'decoder.lstm', LSTM 'encoder.lstm'"), unknown.stderr)
    }
  }

  /// A module and its conversion verify alone: a two-layer PyTorch LSTM became two Keras layers,
  /// which --module-b names together.
  func testVerifiesOneModuleAgainstItsConversion() throws {
    try TestFixtures.withTemporaryFolder { folder in
      let keras = folder + "/seq2seq.h5"
      XCTAssertEqual(
        try TestFixtures.runCkpt(["convert", seq2seq, keras, "--layout", "keras", "-q"]).status, 0)
      let inspect = try JSONValue.parse(
        Array(try TestFixtures.runCkpt(["inspect", "--json", keras]).stdout.utf8))
      let prefixes = inspect["modules"]?.arrayValue?.compactMap { $0["prefix"]?.stringValue } ?? []
      XCTAssertEqual(prefixes.sorted(), ["decoder_lstm", "decoder_lstm_1", "encoder_lstm", "encoder_lstm_1"])
      let verify = try TestFixtures.runCkpt([
        "verify", seq2seq, keras, "--arch", "lstm", "--module", "encoder.lstm", "--module-b",
        "encoder_lstm,encoder_lstm_1",
      ])
      XCTAssertEqual(verify.status, 0, verify.stdout + verify.stderr)
      XCTAssertTrue(verify.stdout.contains("PASS: 2 modules and the whole model match"), verify.stdout)
    }
  }
}
