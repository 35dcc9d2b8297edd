import ArgumentParser
import CheckpointCore
import CheckpointEngine
import CheckpointKit
import CheckpointModels
import CheckpointVerification
import Foundation

extension Ckpt {
  /// `ckpt verify`: per-module numerical parity between two checkpoints.
  struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "verify",
      abstract: "Check that two checkpoints compute the same function, module by module.",
      discussion: """
        Both checkpoints are assembled as the architecture (any format and layout `ckpt run` reads) and their modules paired by canonical name (layer index and role, e.g. encoder.layers.0.self_attn, lstm.l1). A runs on the inputs (given with --inputs, else seeded: SplitMix64 normals, or token ids), recording each module's inputs and outputs; each of B's modules runs on A's recorded inputs; then B runs the whole architecture. Per module: max abs error, max rel error, cosine similarity, pass/fail; the first failing module is the first diverging one.

        A value passes when |b - a| <= atol + rtol * |a|. Defaults by the least precise weight dtype: F32 rtol 1.3e-6 atol 1e-5 (torch.testing), F16 1e-3/1e-3, BF16 1.6e-2/1e-2, Q8_0 2e-2/2e-2, Q4_0 1.5e-1/1e-1 (Docs/verification.md).

        Exits 0 only if every module and the whole model pass. --heads, --activation, --norm-first/--no-norm-first and --eps set both sides (as in `ckpt run`), except that a head count a file records (its metadata, or Keras kernel shapes) wins over --heads, so B is compared as what it says; --heads-b sets B's head count alone. Where B's file records no activation, norm placement or eps (a Keras 3 weights file records none) and no flag sets it, B takes A's (listed in the report; --strict-settings turns this off).
        """
    )

    @Argument(help: "The reference checkpoint.")
    var a: String

    @Argument(help: "The checkpoint to check against A.")
    var b: String

    @Option(help: "The architecture (default: recognised from A).")
    var arch: Architecture?

    @Option(help: "An .npz file with the inputs (named as `ckpt run` takes them); default: seeded inputs.")
    var inputs: String?

    @Option(help: "Relative tolerance (default by dtype; F32 1.3e-6).")
    var rtol: Double?

    @Option(help: "Absolute tolerance (default by dtype; F32 1e-5).")
    var atol: Double?

    @OptionGroup var settings: ModelOptions

    @Option(name: .customLong("heads-b"), help: "Attention heads of B alone (overrides --heads for B).")
    var headsB: Int?

    @Flag(
      help:
        "Do not let B take A's activation, norm placement and eps where B's file records none (a Keras 3 weights file)."
    )
    var strictSettings = false

    @Option(
      help: ArgumentHelp(
        "Verify only the module under this prefix (encoder.rnn, a Keras layer such as enc_gru), in A and, unless --module-b, in B.",
        valueName: "prefix"))
    var module: String?

    @Option(
      name: .customLong("module-b"),
      help: ArgumentHelp("B's prefix of the module, where B names it otherwise.", valueName: "prefix"))
    var moduleB: String?

    @Option(help: "Seed of the generated inputs.")
    var seed: UInt64 = 0

    @Option(help: "Batch size of the generated inputs.")
    var batch: Int = 2

    @Option(help: "Sequence length of the generated inputs.")
    var length: Int = 8

    @OptionGroup var outputOptions: OutputOptions

    func validate() throws {
      if let headsB, headsB < 1 { throw ValidationError("--heads-b must be at least 1") }
      try validateTolerances(rtol: rtol, atol: atol)
      if batch < 1 || length < 1 { throw ValidationError("--batch and --length must be at least 1") }
    }

    func run() throws {
      var passed = false
      try reportingErrors(json: outputOptions.json) {
        let report = try Verify.verify(
          a: a, b: b, options: try parityOptions(), settings: settings, json: outputOptions.json,
          quiet: outputOptions.quiet, modules: (module, moduleB ?? module))
        passed = report.passed
      }
      if !passed { throw ExitCode(1) }
    }

    /// The library options the flags ask for.
    func parityOptions() throws -> ParityOptions {
      let engine = settings.settings
      var engineB = engine
      if let headsB { engineB.heads = headsB }
      return ParityOptions(
        architecture: arch,
        inputs: try inputs.map { path in try FormatRegistry.read(path: path) }, rtol: rtol, atol: atol,
        engine: engine, engineB: engineB, seed: seed, batch: batch, length: length,
        inheritSettings: !strictSettings)
    }

    /// Reads A and B once (only the module under `modules`' prefixes, when given), checks the
    /// flags against each file's own config, verifies and prints the report (text or JSON).
    @discardableResult
    static func verify(
      a: String, b: String, options: ParityOptions, settings: ModelOptions, json: Bool, quiet: Bool,
      modules: (a: String?, b: String?) = (nil, nil)
    ) throws -> ParityReport {
      var checkpointA = try CheckpointError.locating(file: a) { try FormatRegistry.read(path: a) }
      var checkpointB = try CheckpointError.locating(file: b) { try FormatRegistry.read(path: b) }
      if let prefix = modules.a {
        checkpointA = try CheckpointError.locating(file: a) { try checkpointA.module(prefix) }
      }
      if let prefix = modules.b {
        checkpointB = try CheckpointError.locating(file: b) { try checkpointB.module(prefix) }
      }
      for (checkpoint, path) in [(checkpointA, a), (checkpointB, b)] {
        try settings.checkAgainstConfig(checkpoint, file: path, architecture: options.architecture)
      }
      let report = try ParityVerifier.verify(checkpointA, checkpointB, options: options)
      if json {
        emit(report.json.prettyText)
      } else if !quiet || !report.passed {
        emit(report.text)
        if !quiet {
          emit(
            String(
              format: "assembled in %.3f s, verified in %.3f s", report.assembleSeconds, report.runSeconds))
        }
      }
      return report
    }
  }
}
