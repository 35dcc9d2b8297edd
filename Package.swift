// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "CheckpointKit",
  platforms: [.macOS(.v13)],
  products: [
    .library(name: "CheckpointCore", targets: ["CheckpointCore"]),
    .library(name: "CheckpointStorage", targets: ["CheckpointStorage"]),
    .library(name: "CheckpointConversion", targets: ["CheckpointConversion"]),
    .executable(name: "ckpt", targets: ["ckpt"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
  ],
  targets: [
    // C interop, one thin system-library target per C library.
    .systemLibrary(
      name: "CZlib",
      pkgConfig: "zlib",
      providers: [.apt(["zlib1g-dev"])]
    ),
    .systemLibrary(
      name: "CCrypto",
      pkgConfig: "libcrypto",
      providers: [.apt(["libssl-dev"]), .brew(["openssl@3"])]
    ),

    // Core: dtypes, tensors, checkpoints, errors, file I/O primitives.
    .target(name: "CheckpointCore"),

    // Storage: one reader/writer per format behind one protocol.
    .target(
      name: "CheckpointStorage",
      dependencies: ["CheckpointCore", "CZlib", "CCrypto"]
    ),

    // Conversion: layout detection and (later) layout mapping rules.
    .target(name: "CheckpointConversion", dependencies: ["CheckpointCore"]),

    // The command-line tool, thin over the libraries.
    .executableTarget(
      name: "ckpt",
      dependencies: [
        "CheckpointCore",
        "CheckpointStorage",
        "CheckpointConversion",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),

    // Shared test helpers: fixture paths, scratch folders, running `ckpt`.
    .target(
      name: "CheckpointTestSupport", dependencies: ["CheckpointCore"], path: "Sources/CheckpointTestSupport"),

    .testTarget(name: "CheckpointCoreTests", dependencies: ["CheckpointCore", "CheckpointTestSupport"]),
    .testTarget(
      name: "CheckpointStorageTests",
      dependencies: ["CheckpointCore", "CheckpointStorage", "CheckpointTestSupport"]
    ),
    .testTarget(
      name: "CheckpointConversionTests",
      dependencies: ["CheckpointCore", "CheckpointConversion", "CheckpointTestSupport"]),
    .testTarget(
      name: "ckptTests",
      dependencies: ["CheckpointCore", "CheckpointStorage", "CheckpointTestSupport", "ckpt"]
    ),
  ],
  swiftLanguageModes: [.v5]
)
