// ClientConnection against the real server on port 0: keep-alive reuse, parked answers, timeouts, refused connects.
import Glibc
import Synchronization
import XCTest
@testable import HTTP
import Transport

final class ClientConnectionTests: XCTestCase {
    var server: TestServer!
    var loop: EventLoop!

    override func setUpWithError() throws {
        server = try TestServer()
        loop = try EventLoop()
        loop.startThread()
    }

    override func tearDown() {
        loop?.stop()
        loop?.join()
        loop = nil
        server?.stop()
        server = nil
    }

    /// Sends one request on the loop and waits for its completion.
    func send(_ client: ClientConnection, _ method: String, _ target: String, body: String = "",
              timeout: Double = 5) -> Result<ClientResponse, ClientFailure>? {
        let box = Mutex<Result<ClientResponse, ClientFailure>?>(nil)
        let done = DispatchSemaphoreBox()
        let transfer = UncheckedBox(client)
        loop.execute {
            transfer.value.send(method: method, target: target, body: Array(body.utf8), timeout: timeout) { result in
                box.withLock { $0 = result }
                done.signal()
            }
        }
        XCTAssertTrue(done.wait(seconds: timeout + 5), "no completion for \(method) \(target)")
        return box.withLock { $0 }
    }

    func address(_ port: Int) -> SocketAddress { SocketAddress(ip: "127.0.0.1", port: port)! }

    func testRequestsShareOneKeptAliveConnection() throws {
        let client = ClientConnection(loop: loop, address: address(server.port), host: "127.0.0.1")
        let health = try XCTUnwrap(send(client, "GET", "/health")).get()
        XCTAssertEqual(health.status, 200)
        XCTAssertEqual(String(decoding: health.body, as: UTF8.self), "{\"status\":\"ok\"}")
        let echo = try XCTUnwrap(send(client, "POST", "/echo", body: "hello")).get()
        XCTAssertEqual(String(decoding: echo.body, as: UTF8.self), "hello")
        XCTAssertEqual(try XCTUnwrap(send(client, "GET", "/nope")).get().status, 404)
        XCTAssertEqual(client.connects, 1, "keep-alive: one socket for three requests")
    }

    func testParkedRequestIsAnsweredAtItsDeadline() throws {
        let client = ClientConnection(loop: loop, address: address(server.port), host: "127.0.0.1")
        let started = monotonicNanos()
        let answer = try XCTUnwrap(send(client, "GET", "/park?t=0.3")).get()
        XCTAssertEqual(String(decoding: answer.body, as: UTF8.self), "deadline")
        XCTAssertGreaterThanOrEqual(monotonicNanos() - started, 250_000_000)
    }

    func testTimeoutFailsTheRequestAndTheNextOneReconnects() throws {
        let client = ClientConnection(loop: loop, address: address(server.port), host: "127.0.0.1")
        guard case .failure(.timedOut)? = send(client, "GET", "/park?t=5", timeout: 0.2) else { return XCTFail("expected a timeout") }
        XCTAssertEqual(try XCTUnwrap(send(client, "GET", "/health")).get().status, 200)
        XCTAssertEqual(client.connects, 2)
    }

    /// A short timeout after a long one still fires on time (timers are re-armed, never cancelled).
    func testShortTimeoutAfterALongOneFiresOnTime() throws {
        let client = ClientConnection(loop: loop, address: address(server.port), host: "127.0.0.1")
        XCTAssertEqual(try XCTUnwrap(send(client, "GET", "/health", timeout: 30)).get().status, 200)
        let started = monotonicNanos()
        guard case .failure(.timedOut)? = send(client, "GET", "/park?t=5", timeout: 0.3) else { return XCTFail("expected a timeout") }
        let elapsed = Double(monotonicNanos() - started) / 1e9
        XCTAssertGreaterThanOrEqual(elapsed, 0.29)
        XCTAssertLessThan(elapsed, 4, "the timeout waited for the earlier request's timer")
    }

    func testRefusedConnectFails() throws {
        let probe = try Socket.listen(ip: "127.0.0.1", port: 0, reusePort: false)
        let port = Socket.localAddress(probe).port
        Socket.close(probe)                                   // nothing listens there now
        let client = ClientConnection(loop: loop, address: address(port), host: "127.0.0.1")
        guard case .failure(let failure)? = send(client, "GET", "/health") else { return XCTFail("expected a failure") }
        XCTAssertTrue([.closedBeforeResponse, .connectFailed(ECONNREFUSED)].contains(failure), "\(failure)")
    }
}

/// A semaphore usable from the loop thread (Dispatch-free: a Mutex and a flag, polled).
private final class DispatchSemaphoreBox: Sendable {
    let flag = Atomic<Bool>(false)
    func signal() { flag.store(true, ordering: .releasing) }
    func wait(seconds: Double) -> Bool {
        let deadline = monotonicNanos() + UInt64(seconds * 1e9)
        while !flag.load(ordering: .acquiring) {
            if monotonicNanos() > deadline { return false }
            usleep(1000)
        }
        return true
    }
}

private struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
