// Deadlines of one loop: a binary min-heap of timers; cancelling only flags a timer, it is dropped when it surfaces.

/// A scheduled action. `cancel()` is cheap and only valid on the loop thread.
public final class LoopTimer {
    public let deadline: UInt64            // monotonic ns
    let action: () -> Void
    public private(set) var cancelled = false
    init(deadline: UInt64, action: @escaping () -> Void) {
        self.deadline = deadline
        self.action = action
    }
    public func cancel() { cancelled = true }
    func fire() {
        cancelled = true
        action()
    }
}

struct TimerHeap {
    private var items: [LoopTimer] = []

    var count: Int { items.count }

    mutating func nextDeadline() -> UInt64? {
        while let first = items.first, first.cancelled { _ = popFirst() }
        return items.first?.deadline
    }

    mutating func push(_ timer: LoopTimer) {
        items.append(timer)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if items[parent].deadline <= items[i].deadline { break }
            items.swapAt(parent, i)
            i = parent
        }
    }

    /// The earliest timer if it is due (cancelled ones are returned too; the caller skips them).
    mutating func popDue(now: UInt64) -> LoopTimer? {
        guard let first = items.first, first.deadline <= now || first.cancelled else { return nil }
        return popFirst()
    }

    private mutating func popFirst() -> LoopTimer? {
        guard !items.isEmpty else { return nil }
        let first = items[0]
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var smallest = i
                if l < items.count && items[l].deadline < items[smallest].deadline { smallest = l }
                if r < items.count && items[r].deadline < items[smallest].deadline { smallest = r }
                if smallest == i { break }
                items.swapAt(i, smallest)
                i = smallest
            }
        }
        return first
    }
}
