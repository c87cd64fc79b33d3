//go:build linux

package xdp

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/capture"
	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/traffic"
)

// TestKernel_ReplayCaptures replays every packet of every shared capture
// through the kernel and through Go; no mismatch is allowed.
func TestKernel_ReplayCaptures(t *testing.T) {
	files := traffic.Files(t)
	k := loadKernel(t)
	var buf []byte
	total, tooShort, clipped := 0, 0, 0
	var digest uint64
	before := dataDigest(t, files)
	for _, path := range files {
		pkts := traffic.Load(t, path)
		name := filepath.Base(path)
		for i := range pkts {
			frame, ok := pkts[i].Ethernet(buf[:0])
			if !ok {
				continue
			}
			if pkts[i].Link != capture.LinkEthernet {
				// Keep only frames written into buf: an Ethernet packet's
				// frame is its Data, which the next conversion would
				// overwrite (the captures are shared by every test).
				buf = frame
			}
			if len(frame) < kerneltest.MinFrame {
				// XDP never sees such frames; Go must call them truncated.
				if _, err := flow.Parse(frame); !errors.Is(err, flow.ErrTruncated) {
					t.Errorf("%s packet %d: %d-byte frame not truncated: %v", name, i+1, len(frame), err)
				}
				tooShort++
				continue
			}
			if len(frame) > kerneltest.MaxFrame {
				clipped++
			}
			seen := kerneltest.Clip(frame)
			e := runOne(t, k, seen)
			if m := mismatch(e, seen); m != "" {
				t.Fatalf("%s packet %d: %s", name, i+1, m)
			}
			if e.Outcome == flow.OutcomeOK {
				digest ^= e.Hash
			}
			total++
		}
	}
	if after := dataDigest(t, files); after != before {
		t.Fatalf("the replay changed the shared captures' packet data (digest %#x, was %#x)", after, before)
	}
	s, err := k.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.Packets() != uint64(total) || s.Digest != digest || s.EventsLost != 0 {
		t.Fatalf("stats %+v after %d packets, digest want %#x", s, total, digest)
	}
	t.Logf("%d packets of %d captures agree between kernel and Go (%d shorter than an Ethernet header checked in Go only, %d longer than %d bytes compared on their first %d); outcomes %v",
		total, len(files), tooShort, clipped, kerneltest.MaxFrame, kerneltest.MaxFrame, s.Outcomes)
	if total == 0 || !strings.Contains(strings.Join(files, " "), "robustness") {
		t.Fatal("the replay must cover the main and the robustness captures")
	}
}

// dataDigest sums a hash of every packet's data and position in the
// captures, so that any change to a cached packet shows.
func dataDigest(t *testing.T, files []string) uint64 {
	var d uint64
	for fi, path := range files {
		for i, p := range traffic.Load(t, path) {
			d += flow.Hash64(p.Data, uint64(fi)<<32|uint64(i))
		}
	}
	return d
}

func BenchmarkKernel(b *testing.B) {
	k, err := Load(Options{Seed: testSeed})
	if err != nil {
		kerneltest.Require(b)
		b.Fatal(err)
	}
	defer k.Close()
	var frames [][]byte
	for _, path := range traffic.MainFiles(b) {
		for _, p := range traffic.Load(b, path) {
			if f, ok := p.Ethernet(nil); ok && len(f) >= kerneltest.MinFrame {
				frames = append(frames, f)
			}
			if len(frames) >= 2000 {
				break
			}
		}
	}
	b.Run("parse+hash", func(b *testing.B) { kerneltest.Bench(b, k.Program(), frames) })
}
