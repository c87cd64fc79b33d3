//go:build linux

package xdp

import (
	"testing"

	"github.com/cilium/ebpf"

	"github.com/dataplane-go/dataplane/internal/pkt"
)

// TestKernel_PerCPUSum runs packets of the per-CPU digest on two CPUs,
// in a table of one cell per sub-table, so that both CPUs' copies of every
// cell hold a packet: Table must add the copies as iblt.Table.Merge adds
// tables (counts and value sums added, checksums and keys XORed), giving
// the Go digest of all the packets. Two frames of one length make a value
// sum that is 2 lengths, which a merge XORing the sums would make 0.
func TestKernel_PerCPUSum(t *testing.T) {
	o := Options{Cells: 3, Hashes: 3, Seed: 0x9e5}
	k := loadKernel(t, o)
	cpus := twoCPUs(t)
	frames := [][]byte{
		// 10.0.0.1:40000 > 10.0.0.2:53 udp "a", on the first CPU
		pkt.UDP4("10.0.0.1:40000", "10.0.0.2:53", []byte("a")),
		// 10.0.0.1:40001 > 10.0.0.2:53 udp "b", on the second
		pkt.UDP4("10.0.0.1:40001", "10.0.0.2:53", []byte("b")),
	}
	if len(frames[0]) != len(frames[1]) {
		t.Fatalf("frames of %d and %d bytes, want one length", len(frames[0]), len(frames[1]))
	}
	for i, cpu := range cpus {
		errc := make(chan error, 1)
		go func() { // pinThread ends the thread with the goroutine
			if err := pinThread(cpu); err != nil {
				errc <- err
				return
			}
			_, err := k.Program().Run(&ebpf.RunOptions{Data: frames[i]})
			errc <- err
		}()
		if err := <-errc; err != nil {
			t.Fatalf("CPU %d: %v", cpu, err)
		}
	}
	got, err := k.Table()
	if err != nil {
		t.Fatal(err)
	}
	want, err := Digest(o, frames)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(want) {
		w := got.Words()
		t.Errorf("per-CPU copies summed to cell 0 count %d, value sum %d; the Go digest of both packets has %d, %d",
			int64(w[0]), w[1], int64(want.Words()[0]), want.Words()[1])
	}
}
