import ArgumentParser
import CheckpointCore
import CheckpointEngine
import CheckpointKit
import CheckpointModels
import CheckpointQuantization
import CheckpointStorage
import Foundation

extension Ckpt {
  /// `ckpt run`: a float32 forward pass of a checkpoint's model.
  struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "run",
      abstract: "Run a forward pass of a checkpoint's model on inputs from an .npz file.",
      // Spelled out: swift-argument-parser folds a usage line this long into [<options>].
      usage: """
        ckpt run <model> --arch <arch> --inputs <inputs> --output <output> [--heads <heads>] \
        [--activation <activation>] [--norm-first] [--no-norm-first] [--eps <eps>] [--strict] [--format <format>] \
        [--json] [--quiet]
        """,
      discussion: """
        The model is assembled from tensor names and shapes (PyTorch, Keras 2, Keras 3 with keras_hub, Hugging Face BERT/BART naming). Arrays are batch-first, with PyTorch's conventions:

          lstm, gru            x [B,T,I] -> y [B,T,D*H], h_n [L*D,B,H] (+ c_n)
          transformer-encoder  x [B,S,E], optional mask [B,S] (1 = keep) -> y
          transformer          src [B,S,E], tgt [B,T,E] -> out [B,T,E]
          seq2seq-lstm         src [B,S], tgt [B,T] tokens -> logits [B,T,V]

        The decoder's self-attention is causal. What names and shapes cannot tell (heads, activation, norm placement, eps) comes from the flags, else from the file's own config (a Hugging Face folder's config.json, a file ckpt wrote), else from the shapes or what the naming fixes; a setting none of these determines is an error naming its flag, never a default. Computes in float32 on BLAS; OPENBLAS_NUM_THREADS sets the threads.
        """
    )

    @Argument(help: "The checkpoint holding the model's weights.")
    var model: String

    @Option(help: "The architecture.")
    var arch: Architecture

    @Option(help: "The .npz file with the input arrays.")
    var inputs: String

    @Option(help: "The .npz file to write the outputs to.")
    var output: String

    @OptionGroup var settings: ModelOptions

    @Option(help: "Read MODEL as this format instead of detecting it.")
    var format: FormatArgument?

    @Option(
      help: ArgumentHelp(
        "Run only the module under this prefix (encoder.rnn, a Keras layer such as enc_gru); `ckpt inspect` lists the modules.",
        valueName: "prefix"))
    var module: String?

    @OptionGroup var outputOptions: OutputOptions

    func run() throws {
      try reportingErrors(json: outputOptions.json) {
        let started = Date()
        let architecture = arch
        // Quantized weights (Q8_0/Q4_0 blocks, int8 with scales) run as float32.
        var read = try FormatRegistry.read(path: model, format: format?.name)
        if let module { read = try CheckpointError.locating(file: model) { try read.module(module) } }
        let checkpoint = try Dequantizer.dequantizingAll(read, halves: false)
        let options = settings.settings
        try settings.checkAgainstConfig(checkpoint, file: model, architecture: architecture)
        let assembled = try CheckpointError.locating(file: model) {
          try Model(checkpoint, architecture: architecture, options: options)
        }
        let inputArrays = try FormatRegistry.read(path: inputs)
        let loaded = Date()
        let cpuBefore = clock()
        let results = try CheckpointError.locating(file: inputs) { try assembled.run(inputArrays) }
        let cpuSeconds = Double(clock() - cpuBefore) / Double(CLOCKS_PER_SEC)
        let computed = Date()
        try FormatRegistry.write(results, to: output, format: "npz")
        if outputOptions.json {
          emit(
            JSONValue.object([
              ("model", .string(model)),
              ("arch", .string(architecture.rawValue)),
              ("layout", .string(assembled.layout.rawValue)),
              ("summary", .string(assembled.summary)),
              ("output", .string(output)),
              (
                "outputs",
                .array(
                  results.tensors.map {
                    .object([
                      ("name", .string($0.name)), ("shape", .array($0.shape.map { .integer(Int64($0)) })),
                    ])
                  })
              ),
              ("load_seconds", .double(loaded.timeIntervalSince(started))),
              ("run_seconds", .double(computed.timeIntervalSince(loaded))),
              ("run_cpu_seconds", .double(cpuSeconds)),
            ]).prettyText)
        } else if !outputOptions.quiet {
          emit(assembled.summary)
          let shapes = results.tensors.map { "\($0.name) \(Shape.describe($0.shape))" }
          emit(
            "wrote \(output): \(shapes.joined(separator: ", ")) in "
              + String(format: "%.3f s", computed.timeIntervalSince(loaded)))
        }
      }
    }
  }
}
