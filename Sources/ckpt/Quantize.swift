import ArgumentParser
import CheckpointCore
import CheckpointEngine
import CheckpointKit
import CheckpointModels
import CheckpointQuantization
import CheckpointStorage
import Foundation

extension Ckpt {
  /// `ckpt quantize`: quantize a checkpoint's weights and report what it cost.
  struct Quantize: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "quantize",
      abstract: "Quantize a checkpoint (f16, bf16, int8, Q8_0, Q4_0) and report the error per tensor.",
      discussion: """
        Default rules: only F32/F16/BF16/F64 tensors are quantized; 0-d and 1-D tensors (biases, \
        norms, scalars) stay float; names matching --exclude stay as they are; Q8_0/Q4_0 need a \
        last dimension that is a multiple of 32 (others stay float, and the report says why). \
        f16/bf16 round to nearest even. int8 is per output channel (first dimension), symmetric, \
        with an F32 scale per channel stored as NAME.scale. Q8_0/Q4_0 are ggml's blocks, \
        bit-identical to gguf-py's quants.quantize, and need an output format that stores them \
        (.gguf, .ckz). The report gives, per tensor, the RMSE, the max abs error and the SNR in dB of \
        the dequantized values against the original, and, when the forward engine recognises the \
        model (transformer, seq2seq-lstm, transformer-encoder, lstm, gru), the cosine similarity \
        and max abs error of the quantized model's outputs against the original's on seeded inputs.
        """
    )

    @Argument(help: "The checkpoint to read.")
    var input: String

    @Argument(help: "The file to write (format from its extension).")
    var output: String

    @Option(help: "The quantization scheme.")
    var scheme: QuantizationScheme

    @Option(
      help: ArgumentHelp("Keep tensors whose name matches this regular expression.", valueName: "regex"))
    var exclude: String?

    @OptionGroup(title: "Model settings for the end-to-end check") var settings: ModelOptions

    @Flag(help: "Skip the end-to-end check through the forward engine.")
    var noEndToEnd = false

    @OptionGroup var outputOptions: OutputOptions

    func validate() throws {
      try validating { try Converter.refuseSameFile(input: input, output: output) }
      _ = try validating { try Quantize.outputFormat(for: output, scheme: scheme) }
      if let exclude, (try? NSRegularExpression(pattern: exclude)) == nil {
        throw ValidationError("--exclude '\(exclude)' is not a valid regular expression")
      }
    }

    func run() throws {
      try reportingErrors(json: outputOptions.json) {
        let started = Date()
        let target = try Quantize.outputFormat(for: output, scheme: scheme)
        let original = try FormatRegistry.read(path: input)
        if !noEndToEnd { try settings.checkAgainstConfig(original, file: input, architecture: nil) }
        let rules = try QuantizationRules(scheme: scheme, exclude: exclude)
        let (quantized, report) = try CheckpointQuantizer.quantize(original, rules: rules)
        let progress = outputOptions.progressBar()
        defer { progress?.end() }
        try FormatRegistry.write(
          quantized, to: output,
          options: WriteOptions(progress: progress, provenance: .source(input, original)))
        progress?.end()
        if report.tensors.allSatisfy({ $0.keptReason != nil }) {
          // Said even with --quiet: the output is a copy, which is not what was asked for.
          warn(
            "no tensor was quantized to \(scheme.outputDType): all \(report.tensors.count) kept as they are (see the kept reasons)"
          )
        }
        let seconds = Date().timeIntervalSince(started)
        var endToEnd: EndToEndCheck?
        var skipped: String?
        if !noEndToEnd, outputOptions.json || !outputOptions.quiet {
          do {
            endToEnd = try EndToEndCheck.run(
              original: original, quantized: quantized, options: settings.settings)
          } catch {
            // The quantized file is written; a model the engine cannot run is not a failure.
            skipped = (error as? CheckpointError)?.message ?? "\(error)"
            warn("end-to-end check skipped: \(error)")
          }
        }
        if outputOptions.json {
          var members: [(String, JSONValue)] = [
            ("scheme", .string(scheme.rawValue)),
            ("input", .string(input)),
            ("output", .string(output)),
            ("format", .string(target.identifier)),
            ("bytes_in", .integer(Int64(original.byteCount))),
            ("bytes_out", .integer(Int64(quantized.byteCount))),
            ("seconds", .double(seconds)),
            ("tensors", .array(report.tensors.map(\.json))),
          ]
          if let endToEnd { members.append(("end_to_end", endToEnd.json)) }
          if let skipped { members.append(("end_to_end_skipped", .string(skipped))) }
          emit(JSONValue.object(members).prettyText)
        } else if !outputOptions.quiet {
          emit(Quantize.table(report))
          let count = report.tensors.filter { $0.keptReason == nil }.count
          let total = report.total
          emit(
            "\nwrote \(output): \(count) of \(report.tensors.count) tensors quantized to \(scheme.outputDType), "
              + "\(formatBytes(original.byteCount)) -> \(formatBytes(quantized.byteCount)) in \(String(format: "%.2f", seconds)) s"
          )
          if count > 0 {
            emit(
              "overall: rmse \(Quantize.number(total.rmse)), max abs error \(Quantize.number(total.maxAbsError)), SNR \(Quantize.decibels(total.snrDB))"
            )
          }
          if let endToEnd { emit(endToEnd.text) }
        }
      }
    }

    /// The format of `output` (from its extension), which must store what `scheme` makes.
    static func outputFormat(for output: String, scheme: QuantizationScheme) throws
      -> any CheckpointFormat.Type
    {
      let target = try FormatRegistry.format(named: FormatRegistry.outputFormat(for: output))
      if scheme.isBlockQuantized, !target.supportsBlockQuantization {
        throw CheckpointError(
          .invalidArgument,
          "\(target.identifier) files cannot store \(scheme.outputDType) blocks; write .gguf or .ckz",
          file: output)
      }
      return target
    }

    /// The per-tensor report as an aligned text table.
    static func table(_ report: QuantizationReport) -> String {
      var rows: [[String]] = [["TENSOR", "IN", "OUT", "RMSE", "MAX ABS ERR", "SNR dB", "NOTE"]]
      for entry in report.tensors {
        let quantized = entry.keptReason == nil
        rows.append([
          entry.name, entry.dtypeIn.name, entry.dtypeOut.name,
          quantized ? number(entry.statistics.rmse) : "-",
          quantized ? number(entry.statistics.maxAbsError) : "-",
          quantized ? decibels(entry.statistics.snrDB) : "-",
          entry.keptReason.map { "kept: \($0)" } ?? "",
        ])
      }
      var widths = [Int](repeating: 0, count: rows[0].count)
      for row in rows {
        for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
      }
      return rows.map { row in
        row.enumerated().map { i, cell in
          i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
        }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
      }.joined(separator: "\n")
    }

    static func number(_ value: Double) -> String { String(format: "%.4g", value) }

    static func decibels(_ value: Double) -> String { value.isFinite ? String(format: "%.2f", value) : "inf" }
  }
}
