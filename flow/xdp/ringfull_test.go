//go:build linux

package xdp

import (
	"os"
	"testing"

	"github.com/dataplane-go/dataplane/internal/kerneltest"
)

// TestKernel_RingFullAndNoEvents: a packet whose record finds the ring
// buffer full still passes and counts in Stats.EventsLost, and the
// outcome counts and the digest keep every packet; loaded without
// Options.Events the kernel sends no record, so its one-page ring never
// fills and EventsLost stays 0. Every other test drains the ring after
// each packet: a kernel that did not count lost records, or that wrote
// records without Events, passed them.
func TestKernel_RingFullAndNoEvents(t *testing.T) {
	kerneltest.Require(t)
	var frames [][]byte
	for len(frames) < 300 {
		for _, f := range baseFrames(t) {
			frames = append(frames, f)
		}
	}
	want := Digest(frames, testSeed)
	for _, events := range []bool{true, false} {
		k, err := Load(Options{Seed: testSeed, Events: events, EventsBytes: os.Getpagesize()})
		if err != nil {
			t.Fatal(err)
		}
		defer k.Close()
		for i, f := range frames {
			if v, _ := kerneltest.Run(t, k.Program(), f); v != 2 {
				t.Fatalf("events %v, frame %d: verdict %d, the flow kernel always passes (2)", events, i, v)
			}
		}
		s, err := k.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if s.Packets() != uint64(len(frames)) || s.Digest != want {
			t.Fatalf("events %v: stats %+v after %d frames, digest want %#x", events, s, len(frames), want)
		}
		if !events {
			if s.EventsLost != 0 {
				t.Errorf("without Events: %d records lost, want 0 (none sent)", s.EventsLost)
			}
			continue
		}
		sent := 0
		for ; ; sent++ {
			if _, err := k.NextEvent(0); err != nil {
				break
			}
		}
		if sent == 0 || s.EventsLost == 0 || uint64(sent)+s.EventsLost != uint64(len(frames)) {
			t.Errorf("one-page ring: %d records read and %d lost, want both non-zero, %d in all", sent, s.EventsLost, len(frames))
		}
	}
}
