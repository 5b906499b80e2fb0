// SIGTERM/SIGINT → a callback on an ordinary thread, via the self-pipe trick (the handler only writes one byte).
import Glibc
import Transport

nonisolated(unsafe) private var signalPipe: (read: Int32, write: Int32) = (-1, -1)

enum SignalWatcher {
    /// The handler may run on any thread, so it does the one async-signal-safe thing: write to a pipe. A watcher
    /// thread reads it and runs `action` (graceful shutdown) with no signal-context restrictions.
    static func install(_ action: @escaping @Sendable () -> Void) {
        if signalPipe.read < 0 {
            var fds: [Int32] = [0, 0]
            guard pipe(&fds) == 0 else { return }
            signalPipe = (fds[0], fds[1])
        }
        let handler: @convention(c) (Int32) -> Void = { _ in
            var byte: UInt8 = 1
            _ = write(signalPipe.write, &byte, 1)
        }
        signal(SIGTERM, handler)
        signal(SIGINT, handler)
        signal(SIGPIPE, SIG_IGN)
        let box = Unmanaged.passRetained(SignalBox(action))
        var tid: pthread_t = 0
        pthread_create(&tid, nil, { raw in
            let box = Unmanaged<SignalBox>.fromOpaque(raw!).takeRetainedValue()
            var byte: UInt8 = 0
            while true {
                let n = read(signalPipe.read, &byte, 1)
                if n == 1 { break }
                if n < 0 && errno == EINTR { continue }
                return nil
            }
            box.action()
            return nil
        }, box.toOpaque())
        pthread_detach(tid)
    }
}

final class SignalBox {
    let action: @Sendable () -> Void
    init(_ action: @escaping @Sendable () -> Void) { self.action = action }
}
