import XCTest

@testable import CheckpointEngine

/// The bookkeeping of lanes sharing projection tasks.
final class WavefrontTests: XCTestCase {
  func testAWaitingLaneRunsTheProjectionsOfTheLaneBelow() {
    // Lane 1 reads lane 0's output; three chunks each.
    let board = Wavefront(sources: [nil, 0], chunks: 3)
    XCTAssertEqual(board.next(lane: 0, chunk: 0), .project(lane: 0, chunk: 0))
    // Lane 1 cannot start (lane 0 has not run chunk 0): it takes lane 0's next projection.
    XCTAssertEqual(board.next(lane: 1, chunk: 0), .project(lane: 0, chunk: 1))
    board.projected(lane: 0, chunk: 0)
    XCTAssertEqual(board.next(lane: 0, chunk: 0), .recur)
    board.recurred(lane: 0, chunk: 0)
    // Lane 0's chunk 1 is still being projected by the other thread: lane 0 helps with the
    // earliest ready chunk, lane 1's first (its input is there now), and lane 1 with lane 0's last.
    XCTAssertEqual(board.next(lane: 0, chunk: 1), .project(lane: 1, chunk: 0))
    XCTAssertEqual(board.next(lane: 1, chunk: 0), .project(lane: 0, chunk: 2))
    board.projected(lane: 0, chunk: 1)
    board.projected(lane: 0, chunk: 2)
    board.projected(lane: 1, chunk: 0)
    XCTAssertEqual(board.next(lane: 1, chunk: 0), .recur)
    for chunk in 1..<3 {
      XCTAssertEqual(board.next(lane: 0, chunk: chunk), .recur)
      board.recurred(lane: 0, chunk: chunk)
    }
    // Lane 0 is done and helps with lane 1's remaining projections, then stops.
    XCTAssertEqual(board.next(lane: 0, chunk: nil), .project(lane: 1, chunk: 1))
    XCTAssertEqual(board.next(lane: 0, chunk: nil), .project(lane: 1, chunk: 2))
    XCTAssertNil(board.next(lane: 0, chunk: nil))
  }

  func testLanesRunOneAfterAnotherFinish() {
    // However few threads run the lanes, in lane order they never wait for one another.
    let board = Wavefront(sources: [nil, 0, 1], chunks: 4)
    var projected = Set<[Int]>()
    var recurred: [[Int]] = []
    for lane in 0..<3 {
      board.run(
        lane: lane, chunks: 4,
        project: { XCTAssertTrue(projected.insert([$0, $1]).inserted, "projected twice") },
        recur: { recurred.append([lane, $0]) })
    }
    XCTAssertEqual(projected.count, 12)
    XCTAssertEqual(recurred, (0..<3).flatMap { lane in (0..<4).map { [lane, $0] } })
  }
}
