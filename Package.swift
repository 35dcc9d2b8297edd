// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "CheckpointKit",
  platforms: [.macOS(.v13)],
  products: [
    .library(name: "CheckpointCore", targets: ["CheckpointCore"]),
    .library(name: "CheckpointStorage", targets: ["CheckpointStorage"]),
    .library(name: "CheckpointModels", targets: ["CheckpointModels"]),
    .library(name: "CheckpointConversion", targets: ["CheckpointConversion"]),
    .library(name: "CheckpointHDF5", targets: ["CheckpointHDF5"]),
    .library(name: "CheckpointONNX", targets: ["CheckpointONNX"]),
    .library(name: "CheckpointKit", targets: ["CheckpointKit"]),
    .library(name: "CheckpointEngine", targets: ["CheckpointEngine"]),
    .library(name: "CheckpointQuantization", targets: ["CheckpointQuantization"]),
    .library(name: "CheckpointVerification", targets: ["CheckpointVerification"]),
    .executable(name: "ckpt", targets: ["ckpt"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    // `swift package generate-documentation` for the DocC catalog (`make docs`).
    .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
    // ONNX's protobuf schema (`CheckpointONNX` only; the generated code is committed).
    .package(url: "https://github.com/apple/swift-protobuf", from: "1.28.0"),
  ],
  targets: [
    // C interop, one thin target per C library: system-library module maps over zlib and
    // libcrypto, and small C targets that load libhdf5 and the BLAS on first use.
    .systemLibrary(
      name: "CZlib",
      pkgConfig: "zlib",
      providers: [.apt(["zlib1g-dev"])]
    ),
    // libhdf5's headers (libhdf5-dev), with the library loaded on first use rather than linked:
    // see Sources/CHDF5/include/CHDF5.h.
    .target(
      name: "CHDF5",
      linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]
    ),
    .systemLibrary(
      name: "CCrypto",
      pkgConfig: "libcrypto",
      providers: [.apt(["libssl-dev"]), .brew(["openssl@3"])]
    ),
    // CBLAS: OpenBLAS loaded on first use on Linux, Accelerate on macOS (see include/CBLAS.h).
    .target(
      name: "CBLAS",
      linkerSettings: [
        .linkedLibrary("dl", .when(platforms: [.linux])),
        .linkedFramework("Accelerate", .when(platforms: [.macOS])),
      ]
    ),

    // Core: dtypes, tensors, checkpoints, errors, file I/O primitives, the processor count
    // (`sched_getaffinity` looked up with dlsym).
    .target(
      name: "CheckpointCore",
      linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]
    ),

    // Storage: one reader/writer per format behind one protocol.
    .target(
      name: "CheckpointStorage",
      dependencies: ["CheckpointCore", "CZlib", "CCrypto"]
    ),

    // HDF5 (generic, Keras 2, Keras 3) through libhdf5; the only target that imports CHDF5.
    .target(
      name: "CheckpointHDF5",
      dependencies: ["CheckpointCore", "CheckpointStorage", "CHDF5"]
    ),

    // ONNX (`.onnx`) through swift-protobuf and a wire-format scanner over the mapped file; a
    // target of its own so that only ONNX users compile and link swift-protobuf.
    .target(
      name: "CheckpointONNX",
      dependencies: [
        "CheckpointCore", "CheckpointStorage", "CheckpointONNXSchema",
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ]
    ),
    // ONNX's schema as swift-protobuf generates it (Scripts/generate-onnx-proto.sh), kept apart
    // from the hand-written sources; `package` visibility, for CheckpointONNX alone.
    .target(
      name: "CheckpointONNXSchema",
      dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
      path: "Generated/CheckpointONNXSchema"
    ),

    // Quantization: f16/bf16/int8/Q8_0/Q4_0 kernels (SIMD, multi-threaded) and error reports.
    .target(name: "CheckpointQuantization", dependencies: ["CheckpointCore"]),

    // Models: recognition of what a checkpoint holds, from names, shapes and the file's own
    // config: the one naming vocabulary, the parameter-set view, the recognisers, the settings.
    .target(name: "CheckpointModels", dependencies: ["CheckpointCore"]),

    // Conversion: layout detection and the layout rules (data), on the recognisers.
    .target(name: "CheckpointConversion", dependencies: ["CheckpointCore", "CheckpointModels"]),

    // Engine: a float32 forward pass (RNNs, attention, Transformers) on CBLAS sgemm.
    .target(
      name: "CheckpointEngine",
      dependencies: ["CheckpointCore", "CheckpointModels", "CBLAS"]
    ),

    // Verification: per-module numerical parity (`ckpt verify`) and tensor diffs (`ckpt diff`).
    .target(
      name: "CheckpointVerification",
      dependencies: [
        "CheckpointCore", "CheckpointModels", "CheckpointEngine", "CheckpointConversion",
        "CheckpointQuantization",
      ]),

    // The library as one import: the format registry (every storage target's formats, detection
    // by magic then extension), model folders, and every other target's API re-exported.
    .target(
      name: "CheckpointKit",
      dependencies: [
        "CheckpointCore", "CheckpointStorage", "CheckpointHDF5", "CheckpointONNX", "CheckpointModels",
        "CheckpointConversion", "CheckpointEngine", "CheckpointQuantization", "CheckpointVerification",
      ]
    ),

    // The command-line tool, thin over the libraries.
    .executableTarget(
      name: "ckpt",
      dependencies: [
        "CheckpointCore",
        "CheckpointStorage",
        "CheckpointModels",
        "CheckpointConversion",
        "CheckpointHDF5",
        "CheckpointKit",
        "CheckpointEngine",
        "CheckpointQuantization",
        "CheckpointVerification",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),

    // Shared test helpers: fixture paths, scratch folders, running `ckpt`, in-memory zip archives.
    .target(
      name: "CheckpointTestSupport",
      dependencies: ["CheckpointCore", "CheckpointStorage", "CheckpointModels"],
      path: "Sources/CheckpointTestSupport"),

    .testTarget(name: "CheckpointCoreTests", dependencies: ["CheckpointCore", "CheckpointTestSupport"]),
    .testTarget(
      name: "CheckpointModelsTests",
      dependencies: ["CheckpointCore", "CheckpointModels", "CheckpointKit", "CheckpointTestSupport", "ckpt"]),
    .testTarget(
      name: "CheckpointStorageTests",
      dependencies: ["CheckpointCore", "CheckpointStorage", "CheckpointKit", "CheckpointTestSupport"]
    ),
    .testTarget(
      name: "CheckpointONNXTests",
      dependencies: [
        "CheckpointCore", "CheckpointStorage", "CheckpointONNX", "CheckpointKit", "CheckpointTestSupport",
        "ckpt",
      ]
    ),
    .testTarget(
      name: "CheckpointQuantizationTests",
      dependencies: ["CheckpointCore", "CheckpointQuantization", "CheckpointTestSupport"]),
    .testTarget(
      name: "CheckpointConversionTests",
      dependencies: [
        "CheckpointCore", "CheckpointModels", "CheckpointConversion", "CheckpointEngine", "CheckpointKit",
        "CheckpointTestSupport", "ckpt",
      ]),
    .testTarget(
      name: "CheckpointHDF5Tests",
      dependencies: [
        "CheckpointCore", "CheckpointStorage", "CheckpointHDF5", "CheckpointKit", "CheckpointModels",
        "CheckpointEngine", "CheckpointTestSupport", "ckpt",
      ]
    ),
    .testTarget(
      name: "CheckpointEngineTests",
      dependencies: [
        "CheckpointCore", "CheckpointStorage", "CheckpointHDF5", "CheckpointKit", "CheckpointModels",
        "CheckpointEngine", "CheckpointTestSupport", "ckpt",
      ]
    ),
    .testTarget(
      name: "CheckpointVerificationTests",
      dependencies: [
        "CheckpointCore", "CheckpointStorage", "CheckpointKit", "CheckpointModels", "CheckpointEngine",
        "CheckpointVerification", "CheckpointConversion", "CheckpointTestSupport", "ckpt",
      ]
    ),
    .testTarget(
      name: "ckptTests",
      dependencies: [
        "CheckpointCore", "CheckpointStorage", "CheckpointKit", "CheckpointTestSupport", "ckpt",
      ]
    ),
  ],
  swiftLanguageModes: [.v5]
)
