// A growable byte buffer over malloc'd memory: no copy-on-write, no bounds checks on the hot path.
import Glibc

/// Bytes in `[readerIndex, writerIndex)` are unread. Owned by exactly one connection (or loop); `free` releases it.
/// A value type by convenience only: copy it and you share (and must free once) the storage.
public struct ByteBuffer {
    public private(set) var base: UnsafeMutablePointer<UInt8>? = nil
    public private(set) var capacity = 0
    public var readerIndex = 0          // first unread byte
    public var writerIndex = 0          // one past the last written byte

    public init() {}
    public init(capacity: Int) { reserve(capacity) }

    public var readableBytes: Int { writerIndex - readerIndex }
    public var isEmpty: Bool { writerIndex == readerIndex }

    /// Makes room for `count` more bytes after `writerIndex`, compacting or growing as needed.
    public mutating func reserve(_ count: Int) {
        if writerIndex + count <= capacity { return }
        if readerIndex > 0 {
            let live = writerIndex - readerIndex
            if live > 0, let b = base { memmove(b, b + readerIndex, live) }
            readerIndex = 0
            writerIndex = live
            if writerIndex + count <= capacity { return }
        }
        var newCapacity = Swift.max(capacity * 2, 1024)
        while newCapacity < writerIndex + count { newCapacity *= 2 }
        base = realloc(base, newCapacity)?.assumingMemoryBound(to: UInt8.self)
        precondition(base != nil, "out of memory")
        capacity = newCapacity
    }

    /// Writable space after `writerIndex` (call `reserve` first); advance with `commit`.
    @inline(__always)
    public var writablePointer: UnsafeMutablePointer<UInt8> { base! + writerIndex }

    @inline(__always)
    public mutating func commit(_ count: Int) { writerIndex += count }

    @inline(__always)
    public mutating func consume(_ count: Int) {
        readerIndex += count
        if readerIndex == writerIndex { readerIndex = 0; writerIndex = 0 }
    }

    /// The unread bytes (valid until the next mutation).
    @inline(__always)
    public var readable: UnsafeRawBufferPointer {
        guard let b = base else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: b + readerIndex, count: writerIndex - readerIndex)
    }

    @inline(__always)
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        reserve(bytes.count)
        memcpy(base! + writerIndex, bytes.baseAddress!, bytes.count)
        writerIndex += bytes.count
    }

    @inline(__always)
    public mutating func append(_ byte: UInt8) {
        reserve(1)
        base![writerIndex] = byte
        writerIndex += 1
    }

    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    public mutating func append(_ string: String) {
        var s = string
        s.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    public mutating func append(_ string: StaticString) {
        append(UnsafeRawBufferPointer(start: string.utf8Start, count: string.utf8CodeUnitCount))
    }

    /// Appends a non-negative integer in decimal, without Foundation or String formatting.
    public mutating func appendDecimal(_ value: Int) {
        var v = value < 0 ? 0 : value
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)   // 24 bytes of scratch, enough for Int.max
        let n = withUnsafeMutableBytes(of: &digits) { raw -> Int in
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var i = 24
            repeat {
                i -= 1
                p[i] = UInt8(truncatingIfNeeded: v % 10) + 48
                v /= 10
            } while v > 0
            reserve(24 - i)
            memcpy(base! + writerIndex, p + i, 24 - i)
            return 24 - i
        }
        writerIndex += n
    }

    /// Empties the buffer and releases its memory (idle connections hold no buffers).
    public mutating func free() {
        Glibc.free(base)
        base = nil
        capacity = 0
        readerIndex = 0
        writerIndex = 0
    }
}
