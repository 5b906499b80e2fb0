// Deadlines of one loop: a binary min-heap of timers; each timer knows its slot, so cancelling removes it at once.

/// A scheduled action. `cancel()` is only valid on the loop thread; it takes the timer out of the heap.
public final class LoopTimer {
    public let deadline: UInt64            // monotonic ns
    let action: () -> Void
    var heapIndex = -1                     // slot in the heap; -1 once fired or cancelled
    unowned(unsafe) let loop: EventLoop
    init(deadline: UInt64, loop: EventLoop, action: @escaping () -> Void) {
        self.deadline = deadline
        self.loop = loop
        self.action = action
    }
    public var isPending: Bool { heapIndex >= 0 }
    public func cancel() {
        if heapIndex >= 0 { loop.timers.remove(at: heapIndex) }
    }
}

struct TimerHeap {
    private var items: [LoopTimer] = []

    var count: Int { items.count }

    var nextDeadline: UInt64? { items.first?.deadline }

    mutating func removeAll() {
        for timer in items { timer.heapIndex = -1 }
        items.removeAll()
    }

    mutating func push(_ timer: LoopTimer) {
        timer.heapIndex = items.count
        items.append(timer)
        siftUp(items.count - 1)
    }

    /// The earliest timer if it is due, removed from the heap.
    mutating func popDue(now: UInt64) -> LoopTimer? {
        guard let first = items.first, first.deadline <= now else { return nil }
        remove(at: 0)
        return first
    }

    mutating func remove(at index: Int) {
        let removed = items[index]
        removed.heapIndex = -1
        let last = items.removeLast()
        guard index < items.count else { return }
        items[index] = last
        last.heapIndex = index
        siftDown(index)
        siftUp(index)
    }

    private mutating func swapItems(_ a: Int, _ b: Int) {
        items.swapAt(a, b)
        items[a].heapIndex = a
        items[b].heapIndex = b
    }

    private mutating func siftUp(_ start: Int) {
        var i = start
        while i > 0 {
            let parent = (i - 1) / 2
            if items[parent].deadline <= items[i].deadline { break }
            swapItems(parent, i)
            i = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        while true {
            let l = 2 * i + 1, r = l + 1
            var smallest = i
            if l < items.count && items[l].deadline < items[smallest].deadline { smallest = l }
            if r < items.count && items[r].deadline < items[smallest].deadline { smallest = r }
            if smallest == i { return }
            swapItems(i, smallest)
            i = smallest
        }
    }
}
