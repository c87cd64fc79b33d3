package bpfload

import "sync"

// Life makes a loaded kernel's Close safe to call while its other methods
// run. Each method holds the Life shared while it uses the kernel's maps,
// program and mapped memory (Enter, then Exit), and Close holds it alone
// while it frees them, so Close waits for the calls in progress and the
// calls that come after it fail. Without it, a read overlapping Close
// could copy from memory Close had unmapped, a fault that ends the
// process, or use a descriptor that Close had closed and the process had
// since reused for another file.
//
// Enter never waits for another call, only for a Close in progress (and,
// as with [sync.RWMutex], a call that enters while a Close waits waits
// for it). A method must not call another method that enters: with a
// Close waiting between the two, neither would go on.
//
// The zero Life is open.
type Life struct {
	mu     sync.RWMutex
	closed bool
}

// Enter holds l shared for one call and reports whether the kernel is
// open. After true the call must Exit; after false it must not, and must
// not use the kernel.
func (l *Life) Enter() bool {
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return false
	}
	return true
}

// Exit ends a call that Enter let in.
func (l *Life) Exit() { l.mu.RUnlock() }

// Close waits for the calls in progress, runs free with l held alone, and
// closes l. Later Closes run nothing and return nil.
func (l *Life) Close(free func() error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	return free()
}
