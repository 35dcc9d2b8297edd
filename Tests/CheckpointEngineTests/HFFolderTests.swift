import CheckpointCore
import CheckpointEngine
import CheckpointKit
import CheckpointModels
import CheckpointStorage
import CheckpointTestSupport
import XCTest

/// Hugging Face model folders written by transformers' `save_pretrained` (Fixtures/hf): read as
/// one checkpoint with their config.json, and run, verified and quantized with no flags, the
/// settings coming from the config.
final class HFFolderTests: XCTestCase {
  private func folder(_ name: String) -> String { TestFixtures.path("hf/" + name) }

  func testEveryWeightsLayoutReadsTheSameTensorsAndTheConfig() throws {
    let reference = try FormatRegistry.read(path: folder("bert"))
    let config = try String(contentsOfFile: folder("bert/config.json"), encoding: .utf8)
    XCTAssertEqual(reference.metadata[ModelFolder.configKey], config)
    for name in ["bert_pt", "bert_sharded", "bert_pt_sharded"] {
      let other = try FormatRegistry.read(path: folder(name))
      XCTAssertEqual(other.metadata[ModelFolder.configKey], config, name)
      XCTAssertEqual(Set(other.tensors.map(\.name)), Set(reference.tensors.map(\.name)), name)
      for tensor in reference.tensors {
        XCTAssertEqual(try other[tensor.name]?.load(), try tensor.load(), "\(name): \(tensor.name)")
      }
    }
    XCTAssertEqual(try FormatRegistry.read(path: folder("bert_pt")).format, TorchFormat.identifier)
    XCTAssertEqual(try FormatRegistry.read(path: folder("bert_pt_sharded")).format, TorchFormat.identifier)
  }

  /// The config says what names and shapes cannot: heads, activation, eps.
  func testModelsRunWithNoFlagsAndMatchTransformers() throws {
    for (name, data, architecture) in [
      ("bert", "bert", Architecture.transformerEncoder), ("bert_pt", "bert", .transformerEncoder),
      ("bert_sharded", "bert", .transformerEncoder), ("bert_pt_sharded", "bert", .transformerEncoder),
      ("bert_gelu_new", "bert_gelu_new", .transformerEncoder), ("bart", "bart", .transformer),
    ] {
      let model = try Model(try FormatRegistry.read(path: folder(name)), architecture: architecture)
      let outputs = try model.run(try FormatRegistry.read(path: folder(data + ".inputs.npz")))
      try EngineFixtures.assertMatches(
        outputs, try FormatRegistry.read(path: folder(data + ".outputs.npz")), label: name)
    }
    let graph = try ModelGraph.build(
      .transformerEncoder, from: try FormatRegistry.read(path: folder("bert_gelu_new")))
    let layer = try XCTUnwrap(graph.nodes.first)
    XCTAssertEqual(layer.setting("heads"), ModelGraph.Setting(name: "heads", value: "3", source: .fileConfig))
    XCTAssertEqual(
      layer.setting("activation"),
      ModelGraph.Setting(name: "activation", value: "gelu_tanh", source: .fileConfig))
    XCTAssertEqual(layer.setting("eps"), ModelGraph.Setting(name: "eps", value: "1e-06", source: .fileConfig))
  }

  /// opus-mt's activation, swish, is not one the engine computes: an error naming it, not a run
  /// with another activation.
  func testAnActivationTheEngineLacksIsAnError() throws {
    let marian = try FormatRegistry.read(path: folder("marian"))
    XCTAssertThrowsError(try Model(marian, architecture: .transformer)) { error in
      let message = (error as? CheckpointError)?.message ?? "\(error)"
      XCTAssertTrue(message.contains("activation_function 'swish'"), message)
    }
    let result = try TestFixtures.runCkpt([
      "run", folder("marian"), "--arch", "transformer", "--inputs", folder("bart.inputs.npz"), "--output",
      try TestFixtures.temporaryFolder() + "/out.npz",
    ])
    XCTAssertEqual(result.status, 1)
    XCTAssertTrue(result.stderr.contains("swish"), result.stderr)
  }

  func testVerifyQuantizeAndConvertTakeAFolderWithNoFlags() throws {
    let verify = try TestFixtures.runCkpt(["verify", folder("bert"), folder("bert_pt_sharded")])
    XCTAssertEqual(verify.status, 0, verify.stdout + verify.stderr)
    XCTAssertTrue(verify.stdout.contains("PASS"), verify.stdout)
    try TestFixtures.withTemporaryFolder { scratch in
      let quantize = try TestFixtures.runCkpt([
        "quantize", folder("bert"), scratch + "/q.gguf", "--scheme", "f16", "--json",
      ])
      XCTAssertEqual(quantize.status, 0, quantize.stderr)
      let json = try JSONValue.parse(Array(quantize.stdout.utf8))
      XCTAssertEqual(json["end_to_end"]?["architecture"]?.stringValue, "transformer-encoder")
      // The config travels into the converted file, which then runs without flags too.
      for ext in ["safetensors", "ckz", "npz"] {
        let out = scratch + "/bert." + ext
        let convert = try TestFixtures.runCkpt(["convert", folder("bert"), out, "--quiet"])
        XCTAssertEqual(convert.status, 0, convert.stderr)
        let converted = try FormatRegistry.read(path: out)
        XCTAssertNotNil(converted.metadata[ModelFolder.configKey], ext)
        let outputs = try Model(converted, architecture: .transformerEncoder).run(
          try FormatRegistry.read(path: folder("bert.inputs.npz")))
        try EngineFixtures.assertMatches(
          outputs, try FormatRegistry.read(path: folder("bert.outputs.npz")), label: ext)
      }
    }
  }

  /// The same folder without its config.json: what only the config said is an error naming the
  /// flags, never a default; with the flags it runs and matches.
  func testWithoutTheConfigEachMissingSettingIsAnErrorNamingItsFlag() throws {
    try TestFixtures.withTemporaryFolder { scratch in
      let bare = scratch + "/bert"
      try FileManager.default.createDirectory(atPath: bare, withIntermediateDirectories: true)
      try FileManager.default.copyItem(
        atPath: folder("bert_gelu_new/model.safetensors"), toPath: bare + "/model.safetensors")
      let out = scratch + "/y.npz"
      let inputs = folder("bert_gelu_new.inputs.npz")
      let refused = try TestFixtures.runCkpt([
        "run", bare, "--arch", "transformer-encoder", "--inputs", inputs, "--output", out,
      ])
      XCTAssertEqual(refused.status, 1)
      XCTAssertTrue(refused.stderr.contains("pass --heads"), refused.stderr)
      XCTAssertFalse(FileManager.default.fileExists(atPath: out))
      let partly = try TestFixtures.runCkpt([
        "run", bare, "--arch", "transformer-encoder", "--inputs", inputs, "--output", out, "--heads", "3",
      ])
      XCTAssertEqual(partly.status, 1)
      XCTAssertTrue(partly.stderr.contains("activation, eps (hf-bert naming)"), partly.stderr)
      XCTAssertTrue(partly.stderr.contains("pass --activation, --eps"), partly.stderr)
      let given = try TestFixtures.runCkpt([
        "run", bare, "--arch", "transformer-encoder", "--inputs", inputs, "--output", out, "--heads", "3",
        "--activation", "gelu_tanh", "--eps", "1e-6",
      ])
      XCTAssertEqual(given.status, 0, given.stderr)
      try EngineFixtures.assertMatches(
        try FormatRegistry.read(path: out),
        try FormatRegistry.read(path: folder("bert_gelu_new.outputs.npz")),
        label: "flags")
      // A bare PyTorch state dict records none of them.
      let torch = try TestFixtures.runCkpt([
        "run", TestFixtures.path("engine/encoder_post_relu_pytorch.safetensors"), "--arch",
        "transformer-encoder",
        "--inputs", TestFixtures.path("engine/encoder_post_relu_pytorch.inputs.npz"), "--output", out,
        "--heads", "2",
      ])
      XCTAssertEqual(torch.status, 1)
      XCTAssertTrue(
        torch.stderr.contains("pass --activation, --norm-first or --no-norm-first, --eps"), torch.stderr)
    }
  }

  /// HF folder → PyTorch layout file → HF folder: the tensors and config.json come back bit for
  /// bit, and the folder runs with no flags; sharded with --shard-size.
  func testAFolderRoundTripsThroughAnotherLayout() throws {
    try TestFixtures.withTemporaryFolder { scratch in
      let file = scratch + "/pt.safetensors"
      let there = try TestFixtures.runCkpt([
        "convert", folder("bert"), file, "--layout", "pytorch", "--verify", "--quiet",
      ])
      XCTAssertEqual(there.status, 0, there.stderr)
      for (out, extra) in [
        (scratch + "/back/", [String]()), (scratch + "/shards/", ["--shard-size", "2KB"]),
      ] {
        let back = try TestFixtures.runCkpt(
          ["convert", file, out, "--layout", "hf", "--verify", "--quiet"] + extra)
        XCTAssertEqual(back.status, 0, back.stderr)
        XCTAssertEqual(
          try String(contentsOfFile: out + "/config.json", encoding: .utf8),
          try String(contentsOfFile: folder("bert/config.json"), encoding: .utf8))
        let original = try FormatRegistry.read(path: folder("bert"))
        let roundTripped = try FormatRegistry.read(path: out)
        XCTAssertEqual(Set(roundTripped.tensors.map(\.name)), Set(original.tensors.map(\.name)))
        for tensor in original.tensors {
          XCTAssertEqual(try roundTripped[tensor.name]?.load(), try tensor.load(), tensor.name)
        }
        XCTAssertEqual(roundTripped.metadata["format"], "pt")
        let outputs = try Model(roundTripped, architecture: .transformerEncoder).run(
          try FormatRegistry.read(path: folder("bert.inputs.npz")))
        try EngineFixtures.assertMatches(
          outputs, try FormatRegistry.read(path: folder("bert.outputs.npz")), label: out)
      }
      XCTAssertTrue(FileManager.default.fileExists(atPath: scratch + "/shards/model.safetensors.index.json"))
      // No config to write: refused, and nothing is left behind; nor is a non-empty folder mixed with.
      let noConfig = try TestFixtures.runCkpt([
        "convert", TestFixtures.path("engine/encoder_post_relu_pytorch.safetensors"), scratch + "/none/",
      ])
      XCTAssertEqual(noConfig.status, 1)
      XCTAssertTrue(noConfig.stderr.contains("needs a config.json"), noConfig.stderr)
      XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/none"))
      let full = try TestFixtures.runCkpt(["convert", file, scratch + "/back/"])
      XCTAssertEqual(full.status, 1)
      XCTAssertTrue(full.stderr.contains("not empty"), full.stderr)
      let leftovers = try FileManager.default.contentsOfDirectory(atPath: scratch).filter {
        $0.hasPrefix(".ckpt")
      }
      XCTAssertEqual(leftovers, [])
    }
  }

  /// A folder from a source with no config.json: for a whole BERT encoder, the sizes come from
  /// the shapes and the settings from the flags given with --layout hf, and the folder runs with
  /// no flags (transformers loads it too: Tests/interop/test_hf.py); a setting no flag gives is
  /// an error naming the flag, and nothing is left behind.
  func testAFolderFromAConfiglessSourceGetsAConfigFromTheFlags() throws {
    try TestFixtures.withTemporaryFolder { scratch in
      let weights = folder("bert/model.safetensors")
      XCTAssertNil(try FormatRegistry.read(path: weights).metadata[ModelFolder.configKey])
      let partial = try TestFixtures.runCkpt([
        "convert", weights, scratch + "/partial/", "--layout", "hf", "--heads", "2",
      ])
      XCTAssertEqual(partial.status, 1)
      XCTAssertTrue(partial.stderr.contains("pass --activation, --eps with --layout hf"), partial.stderr)
      XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/partial"))
      let out = scratch + "/bert/"
      let made = try TestFixtures.runCkpt([
        "convert", weights, out, "--layout", "hf", "--heads", "2", "--eps", "1e-12", "--activation", "gelu",
      ])
      XCTAssertEqual(made.status, 0, made.stderr)
      let written = try JSONValue.parse(Array(try TestFixtures.bytesAt(out + "config.json")))
      let original = try JSONValue.parse(Array(try TestFixtures.bytesAt(folder("bert/config.json"))))
      for key in [
        "model_type", "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
        "intermediate_size",
        "hidden_act", "layer_norm_eps", "max_position_embeddings", "type_vocab_size",
        "position_embedding_type",
      ] {
        XCTAssertEqual(written[key], original[key], key)
      }
      let outputs = try Model(try FormatRegistry.read(path: out), architecture: .transformerEncoder).run(
        try FormatRegistry.read(path: folder("bert.inputs.npz")))
      try EngineFixtures.assertMatches(
        outputs, try FormatRegistry.read(path: folder("bert.outputs.npz")), label: out)
      // BART's config needs what weights cannot prove.
      let bart = try TestFixtures.runCkpt([
        "convert", folder("bart/model.safetensors"), scratch + "/bart/", "--layout", "hf", "--heads", "2",
        "--eps", "1e-5", "--activation", "gelu",
      ])
      XCTAssertEqual(bart.status, 1)
      XCTAssertTrue(bart.stderr.contains("only for a whole BERT encoder"), bart.stderr)
    }
  }

  /// Buffers are not parameters: an HF BERT file's `embeddings.position_ids` (I64) passes
  /// through a layout conversion unchanged, with no --map; a Keras weights file has no place for
  /// it, and the conversion says it left it out.
  func testBuffersPassThroughOrAreNamedWhenLeftOut() throws {
    try TestFixtures.withTemporaryFolder { scratch in
      let bert = try FormatRegistry.read(path: folder("bert"))
      var ids: [UInt8] = []
      for position in 0..<16 { ids.appendLittleEndian(Int64(position)) }
      let buffer = try Tensor(
        name: "embeddings.position_ids", dtype: .i64, shape: [1, 16], bytes: TensorBytes(ids))
      let source = scratch + "/bert"
      try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
      try FormatRegistry.write(
        try Checkpoint(tensors: [buffer] + bert.tensors, metadata: ["format": "pt"]),
        to: source + "/model.safetensors")
      try FileManager.default.copyItem(atPath: folder("bert/config.json"), toPath: source + "/config.json")
      let out = scratch + "/pt.safetensors"
      let torch = try TestFixtures.runCkpt([
        "convert", source, out, "--layout", "pytorch", "--verify", "--quiet",
      ])
      XCTAssertEqual(torch.status, 0, torch.stderr)
      XCTAssertEqual(try FormatRegistry.read(path: out)["embeddings.position_ids"]?.load(), try buffer.load())
      let keras = try TestFixtures.runCkpt([
        "convert", source, scratch + "/bert.weights.h5", "--layout", "keras3", "--json", "--quiet",
      ])
      XCTAssertEqual(keras.status, 0, keras.stderr)
      XCTAssertTrue(keras.stderr.contains("left out 1 buffer(s)"), keras.stderr)
      let notes = try JSONValue.parse(Array(keras.stdout.utf8))["notes"]?.arrayValue?.compactMap(
        \.stringValue)
      XCTAssertEqual(notes?.first?.hasSuffix("embeddings.position_ids"), true, keras.stdout)
    }
  }

  /// A flag that contradicts the config wins with a warning naming both; with --strict it fails.
  func testFlagsContradictingTheConfigWarnOrFailWithStrict() throws {
    try TestFixtures.withTemporaryFolder { scratch in
      let arguments = [
        "run", folder("bert"), "--arch", "transformer-encoder", "--inputs", folder("bert.inputs.npz"),
        "--output",
        scratch + "/y.npz", "--eps", "1e-5",
      ]
      let warned = try TestFixtures.runCkpt(arguments)
      XCTAssertEqual(warned.status, 0, warned.stderr)
      XCTAssertTrue(
        warned.stderr.contains("--eps 1e-05 contradicts the file's own config (1e-12); the flag wins"),
        warned.stderr)
      XCTAssertTrue(warned.stdout.contains("eps 1e-05"), warned.stdout)
      let strict = try TestFixtures.runCkpt(arguments + ["--strict"])
      XCTAssertEqual(strict.status, 1)
      XCTAssertTrue(
        strict.stderr.contains("contradicts the file's own config (1e-12) (--strict)"), strict.stderr)
      let agreeing = try TestFixtures.runCkpt(
        [
          "run", folder("bert"), "--arch", "transformer-encoder", "--inputs", folder("bert.inputs.npz"),
          "--output",
          scratch + "/y.npz", "--heads", "2", "--strict",
        ])
      XCTAssertEqual(agreeing.status, 0, agreeing.stderr)
      XCTAssertFalse(agreeing.stderr.contains("warning"), agreeing.stderr)
    }
  }

  /// A folder's other files (tokenizer, vocabulary) are not carried, and convert says so.
  func testFilesAConversionDoesNotCarryAreNamed() throws {
    try TestFixtures.withTemporaryFolder { scratch in
      let source = scratch + "/bert"
      try FileManager.default.copyItem(atPath: folder("bert"), toPath: source)
      try Data("[PAD]\n".utf8).write(to: URL(fileURLWithPath: source + "/vocab.txt"))
      let result = try TestFixtures.runCkpt([
        "convert", source, scratch + "/b.safetensors", "--quiet", "--json",
      ])
      XCTAssertEqual(result.status, 0, result.stderr)
      XCTAssertTrue(result.stderr.contains("not carried from the folder"), result.stderr)
      XCTAssertTrue(result.stderr.contains("vocab.txt"), result.stderr)
      let notes = try JSONValue.parse(Array(result.stdout.utf8))["notes"]?.arrayValue ?? []
      XCTAssertEqual(notes.count, 1, result.stdout)
    }
  }

  func testMalformedFoldersAreClearErrors() throws {
    try TestFixtures.withTemporaryFolder { scratch in
      let empty = scratch + "/empty"
      try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
      XCTAssertThrowsError(try FormatRegistry.read(path: empty)) { error in
        XCTAssertTrue("\(error)".contains("pytorch_model.bin"), "\(error)")
      }
      let broken = scratch + "/broken"
      try FileManager.default.createDirectory(atPath: broken, withIntermediateDirectories: true)
      try FileManager.default.copyItem(
        atPath: folder("bert/model.safetensors"), toPath: broken + "/model.safetensors")
      try Data("{\"num_attention_heads\": 2,".utf8).write(to: URL(fileURLWithPath: broken + "/config.json"))
      XCTAssertThrowsError(try FormatRegistry.read(path: broken)) { error in
        let text = "\(error)"
        XCTAssertTrue(text.contains("config.json") && text.contains("not valid JSON"), text)
      }
      // A torch shard index that names a tensor its shard does not hold.
      let shards = scratch + "/shards"
      try FileManager.default.copyItem(atPath: folder("bert_pt_sharded"), toPath: shards)
      let indexPath = shards + "/pytorch_model.bin.index.json"
      var index = try String(contentsOfFile: indexPath, encoding: .utf8)
      index = index.replacingOccurrences(
        of: "\"weight_map\": {",
        with: "\"weight_map\": {\n    \"ghost.weight\": \"pytorch_model-00001-of-00004.bin\",")
      try index.write(toFile: indexPath, atomically: true, encoding: .utf8)
      XCTAssertThrowsError(try FormatRegistry.read(path: shards)) { error in
        XCTAssertTrue("\(error)".contains("ghost.weight"), "\(error)")
      }
    }
  }
}
