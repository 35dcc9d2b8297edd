// `import CheckpointKit` is the whole library: every target's public API, re-exported, so a
// consumer needs one product and one import (see the README's "Use as a library" and the DocC
// catalog). The format registry and model folders live in this target itself.
@_exported import CheckpointConversion
@_exported import CheckpointCore
@_exported import CheckpointEngine
@_exported import CheckpointHDF5
@_exported import CheckpointModels
@_exported import CheckpointONNX
@_exported import CheckpointQuantization
@_exported import CheckpointStorage
@_exported import CheckpointVerification
