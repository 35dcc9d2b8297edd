// swift-tools-version:6.0
// A package that uses CheckpointKit the way another project would: one product, one import.
// Built (and run) by `make example`, which `make test` calls.
import PackageDescription

let package = Package(
  name: "Consumer",
  platforms: [.macOS(.v13)],
  dependencies: [.package(name: "CheckpointKit", path: "../..")],
  targets: [
    .executableTarget(
      name: "Consumer",
      dependencies: [.product(name: "CheckpointKit", package: "CheckpointKit")])
  ],
  swiftLanguageModes: [.v5]
)
