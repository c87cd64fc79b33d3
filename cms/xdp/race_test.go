//go:build linux

package xdp

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/dataplane-go/dataplane/cms"
)

// Under traffic that the detector drops (threshold 1: every packet after
// a flow's first is dropped), N = parsed - dropped is read from two
// counters that move while they are read. It must never wrap below zero,
// and the sketch read with it must always decode (rows sum to at most N).
func TestDetector_TotalUnderDrops(t *testing.T) {
	k := load(t, Options{Params: cms.LabParams(4096, testSeed), Mode: ModeDetect, Threshold: 1})
	f := fixtures(t)["ipv4-tcp"]
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				if _, err := k.objs.XdpCms.Run(&ebpf.RunOptions{Data: f, Repeat: 64}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	defer func() { stop.Store(true); wg.Wait() }()
	for i := range 3000 {
		n, err := k.Total()
		if err != nil {
			t.Fatal(err)
		}
		if n > 1<<40 {
			t.Fatalf("read %d: N = %d: wrapped below zero", i, n)
		}
		if i%10 == 0 {
			if _, err := k.Sketch(); err != nil {
				t.Fatalf("read %d: Sketch: %v", i, err)
			}
		}
	}
}
