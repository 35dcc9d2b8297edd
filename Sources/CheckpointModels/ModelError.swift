import CheckpointCore

/// Builders for the errors of recognising and assembling a model (all ``CheckpointError``s, so the
/// CLI reports them uniformly).
package enum ModelError {
  /// An input array has the wrong shape or content.
  package static func invalidInput(_ name: String, _ message: String) -> CheckpointError {
    CheckpointError(.invalidShape, "input '\(name)': \(message)")
  }

  /// A module the architecture needs is not in the checkpoint.
  package static func missingModule(_ message: String) -> CheckpointError {
    CheckpointError(.notFound, message)
  }

  /// A weight has a shape that does not fit the module.
  package static func badWeight(_ name: String, _ message: String) -> CheckpointError {
    CheckpointError(.invalidShape, message, tensor: name)
  }

  /// An option value that cannot work with the checkpoint.
  package static func invalidOption(_ message: String) -> CheckpointError {
    CheckpointError(.invalidArgument, message)
  }
}
