import CheckpointCore

/// NumPy's `.npy` format: one array, named after the file's stem
/// (`weights.npy` holds the tensor `weights`).
///
/// Reading accepts header versions 1.0, 2.0 and 3.0 and the dtypes listed
/// in `NPYArrayLayout`; big-endian data is byte-swapped and Fortran-order
/// data transposed to little-endian C order when a tensor loads, so values
/// are preserved. BF16 is stored as `<V2`, the descr numpy writes for an
/// `ml_dtypes.bfloat16` array (`np.load` returns it as `|V2`; view it as
/// `ml_dtypes.bfloat16`). The file must hold exactly the declared bytes.
///
/// Writing produces what `np.save` writes for a C-order little-endian array
/// (header byte for byte, version 1.0, data 64-byte aligned). F8 and
/// block-quantized tensors cannot be written (`.unsupportedDType`).
public enum NPYFormat: CheckpointFormat {
  /// The name `--format` takes and `ckpt inspect` reports: `npy`.
  public static let identifier = "npy"
  /// The extensions that name this format, when writing and when no magic bytes match: `.npy`.
  public static let fileExtensions = ["npy"]
  /// A `.npy` file holds one array and no metadata.
  public static var supportsMetadata: Bool { false }

  /// `.npy` files start with `\x93NUMPY`.
  public static func matches(prefix: [UInt8]) -> Bool {
    prefix.starts(with: NPYHeader.magic)
  }

  /// Reads the checkpoint at `path`, validating it as the type's documentation says; tensor bytes are read
  /// lazily.
  public static func read(path: String) throws -> Checkpoint {
    let file = try InputFile(path: path)
    let name = stem(of: path)
    return try CheckpointError.locating(file: path) {
      let header = try NPYHeader.read(available: file.size) { try file.read(count: $0, at: 0) }
      let layout = try CheckpointError.locating(tensor: name) { try NPYArrayLayout(header) }
      try checkDataSize(available: file.size - header.size, layout: layout, tensor: name, offset: header.size)
      let dataOffset = header.size
      let tensor = Tensor(
        info: TensorInfo(name: name, dtype: layout.dtype, shape: layout.shape), byteCount: layout.byteCount
      ) {
        try CheckpointError.locating(file: path, offset: dataOffset) {
          let bytes: TensorBytes
          if layout.isCanonical && dataOffset % 64 == 0 && layout.byteCount >= ZipReader.mapThreshold {
            bytes = try file.mapBytes(count: layout.byteCount, at: dataOffset)
          } else {
            bytes = try file.readBytes(count: layout.byteCount, at: dataOffset)
          }
          return layout.canonical(bytes)
        }
      }
      return try Checkpoint(format: identifier, tensors: [tensor])
    }
  }

  /// Writes the checkpoint's single tensor; `options.compression` other than
  /// none and `options.shardSize` are refused.
  public static func write(_ checkpoint: Checkpoint, to path: String, options: WriteOptions) throws {
    try refuseSharding(options, path: path)
    if let compression = options.compression, compression.codec != .none {
      throw CheckpointError(
        .invalidArgument, ".npy files are not compressed; write .npz for --compress \(compression)",
        file: path)
    }
    guard checkpoint.tensors.count == 1, let tensor = checkpoint.tensors.first else {
      throw CheckpointError(
        .invalidArgument,
        "a .npy file holds exactly one array, this checkpoint has \(checkpoint.tensors.count) tensors (write .npz)",
        file: path)
    }
    let header = try encodedHeader(for: tensor)
    try AtomicFile.write(to: path) { file in
      let bytes = try tensor.load()
      try file.write(header)
      try file.write(bytes)
    }
  }

  /// Refuses `--shard-size`: numpy files are never sharded.
  static func refuseSharding(_ options: WriteOptions, path: String) throws {
    guard options.shardSize == nil else {
      throw CheckpointError(
        .invalidArgument,
        "numpy files are not sharded; --shard-size applies to safetensors output (model.safetensors.index.json)",
        file: path)
    }
  }

  /// The `np.save` header for `tensor` (C order, little-endian).
  static func encodedHeader(for tensor: Tensor) throws -> [UInt8] {
    guard let descr = NPYArrayLayout.descr(for: tensor.dtype) else {
      throw CheckpointError(
        .unsupportedDType, "numpy cannot store \(tensor.dtype) tensors", tensor: tensor.name)
    }
    return try CheckpointError.locating(tensor: tensor.name) {
      try NPYHeader.encode(descr: descr, fortranOrder: false, shape: tensor.shape)
    }
  }

  /// Checks that exactly the declared data follows the header.
  static func checkDataSize(available: Int, layout: NPYArrayLayout, tensor: String, offset: Int) throws {
    guard available >= layout.byteCount else {
      throw CheckpointError(
        .truncated,
        "shape \(Shape.describe(layout.shape)) \(layout.dtype) needs \(layout.byteCount) bytes, only \(available) follow the header",
        tensor: tensor, offset: offset)
    }
    guard available == layout.byteCount else {
      throw CheckpointError(
        .corrupt,
        "\(available - layout.byteCount) bytes follow the \(layout.byteCount) bytes of shape \(Shape.describe(layout.shape)) \(layout.dtype)",
        tensor: tensor, offset: offset + layout.byteCount)
    }
  }

  /// The file name without folder and `.npy` extension.
  static func stem(of path: String) -> String {
    let name = path.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? path
    if name.lowercased().hasSuffix(".npy"), name.count > 4 { return String(name.dropLast(4)) }
    return name
  }
}
