package bpfload

import "github.com/cilium/ebpf"

// Maps returns the Waiter's array of maps and the map Wait puts in it.
func (w *Waiter) Maps() (outer, inner *ebpf.Map) { return w.outer, w.inner }
