import CheckpointCore
import CheckpointStorage

/// Generic HDF5 (`.h5`, `.hdf5`), read and written with libhdf5.
///
/// Reading recognises the Keras 2 and Keras 3 layouts and reports the
/// checkpoint's format as `keras` or `keras3` accordingly (see
/// `HDF5CheckpointReader`). Writing a `.h5` file chooses the layout from the
/// tensor names: when every name is a Keras 2 weight path
/// (`<layer>/<weight>:0`), the file gets the tf.keras `save_weights` layout
/// so `model.load_weights` accepts it; otherwise each tensor becomes a
/// dataset at its name (slashes make groups) with metadata as root string
/// attributes. `--compress zlib[:LEVEL]` stores datasets chunked with the
/// shuffle and gzip filters.
public enum HDF5Format: CheckpointFormat {
  /// The name `--format` takes and `ckpt inspect` reports: `hdf5`.
  public static let identifier = "hdf5"
  /// The extensions that name this format, when writing and when no magic bytes match: `.hdf5`, `.h5`.
  public static let fileExtensions = ["hdf5", "h5"]

  /// The HDF5 signature at offset 0 (files with a user block are found by extension).
  public static func matches(prefix: [UInt8]) -> Bool { HDF5Safety.hasSignature(prefix) }

  /// Reads the checkpoint at `path`, validating it as the type's documentation says; tensor bytes are read
  /// lazily.
  public static func read(path: String) throws -> Checkpoint {
    try HDF5CheckpointReader.read(path: path)
  }

  /// Writes `checkpoint` to `path` atomically: a temporary file in the same folder, synced, then renamed.
  public static func write(_ checkpoint: Checkpoint, to path: String, options: WriteOptions) throws {
    let keras2 =
      !checkpoint.tensors.isEmpty && checkpoint.tensors.allSatisfy { Keras2Layout.isWeightName($0.name) }
    try HDF5CheckpointWriter.write(
      checkpoint, to: path, layout: keras2 ? .keras2 : .generic, options: options)
  }
}

/// The tf.keras 2 HDF5 weights layout (`--format keras`).
///
/// Reads any HDF5 file like ``HDF5Format``. Writes the `save_weights` layout:
/// one group per layer with a `weight_names` attribute, datasets at
/// `<layer>/<weight>:0`, root attributes `layer_names` (split into
/// `layer_names0..N` past 64 KiB), `backend` and `keras_version`. Tensor names
/// must already be Keras 2 weight paths.
public enum Keras2Format: CheckpointFormat {
  /// The name `--format` takes and `ckpt inspect` reports: `keras`.
  public static let identifier = "keras"
  /// No extension of its own: this layout is chosen with `--format`.
  public static let fileExtensions: [String] = []

  /// Never by the first bytes: an HDF5 file is claimed by ``HDF5Format``, and its Keras layout is found from
  /// its groups.
  public static func matches(prefix: [UInt8]) -> Bool { false }

  /// Reads the checkpoint at `path`, validating it as the type's documentation says; tensor bytes are read
  /// lazily.
  public static func read(path: String) throws -> Checkpoint {
    try HDF5CheckpointReader.read(path: path)
  }

  /// Writes `checkpoint` to `path` atomically: a temporary file in the same folder, synced, then renamed.
  public static func write(_ checkpoint: Checkpoint, to path: String, options: WriteOptions) throws {
    try HDF5CheckpointWriter.write(checkpoint, to: path, layout: .keras2, options: options)
  }
}

/// The Keras 3 `.weights.h5` layout (`--format keras3`, extension `weights.h5`).
///
/// Reads any HDF5 file like ``HDF5Format``. Writes datasets at their
/// `layers/<layer>/…/vars/<N>` paths, uncompressed, bf16 as an opaque 2-byte
/// type with a `dtype` attribute of `bfloat16` (what Keras 3 writes and reads).
public enum Keras3Format: CheckpointFormat {
  /// The name `--format` takes and `ckpt inspect` reports: `keras3`.
  public static let identifier = "keras3"
  /// The extensions that name this format, when writing and when no magic bytes match: `.weights.h5`.
  public static let fileExtensions = ["weights.h5"]

  /// Never by the first bytes: an HDF5 file is claimed by ``HDF5Format``, and its Keras layout is found from
  /// its groups.
  public static func matches(prefix: [UInt8]) -> Bool { false }

  /// Reads the checkpoint at `path`, validating it as the type's documentation says; tensor bytes are read
  /// lazily.
  public static func read(path: String) throws -> Checkpoint {
    try HDF5CheckpointReader.read(path: path)
  }

  /// Writes `checkpoint` to `path` atomically: a temporary file in the same folder, synced, then renamed.
  public static func write(_ checkpoint: Checkpoint, to path: String, options: WriteOptions) throws {
    try HDF5CheckpointWriter.write(checkpoint, to: path, layout: .keras3, options: options)
  }

  /// Keras 3 weight files keep no metadata.
  public static var supportsMetadata: Bool { false }
}

/// The HDF5-backed formats, listed by the `CheckpointKit` format registry.
public enum HDF5Formats {
  /// `hdf5`, `keras`, `keras3` and `keras-archive` (`.keras`).
  public static let all: [any CheckpointFormat.Type] = [
    HDF5Format.self, Keras2Format.self, Keras3Format.self, KerasArchiveFormat.self,
  ]
}
