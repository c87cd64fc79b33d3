package main

import (
	"bytes"
	"regexp"
	"strconv"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/flowradar"
)

// frRun is a Run of n flows of 5 packets each, the flows' packets
// interleaved, for calling the flowradar section's parts directly.
func frRun(n int) (*Run, *bytes.Buffer) {
	var out bytes.Buffer
	r := &Run{Seed: 5, Kernel: KernelOff, Quiet: true, out: &out}
	for p := 0; p < 5; p++ {
		for i := 0; i < n; i++ {
			k := flow.KeyFrom4([4]byte{10, 2, byte(i >> 8), byte(i)}, [4]byte{10, 3, byte(i), byte(i >> 8)}, 4000, 443, flow.ProtoTCP)
			r.Parsed = append(r.Parsed, Parsed{Info: flow.Info{Key: k}})
			r.Frames = append(r.Frames, make([]byte, 100))
		}
	}
	return r, &out
}

// TestFlowradarLocate_DecodeError: the loss localisation line reports the
// network-wide decode's error. With tables sized for a sixth of the
// busiest switch's flows the decode cannot finish, and the line must say
// so rather than print the error of the last Hops call.
func TestFlowradarLocate_DecodeError(t *testing.T) {
	const n = 3000
	for _, tc := range []struct {
		name     string
		busiest  int // flows the tables are sized for
		complete bool
	}{
		{"tables sized for the flows", n, true},
		{"tables sized for a sixth", n / 6, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, out := frRun(n)
			if err := flowradarLocate(r, flowradar.ParamsFor(n, r.Seed), tc.busiest); err != nil {
				t.Fatal(err)
			}
			m := regexp.MustCompile(`decode error (.*)\)`).FindStringSubmatch(out.String())
			if m == nil {
				t.Fatalf("no decode error in the loss localisation line:\n%s", out)
			}
			if got := m[1] == "<nil>"; got != tc.complete {
				t.Errorf("decode error %q, want an error: %v", m[1], !tc.complete)
			}
		})
	}
}

// TestFlowradarSection_Figures: 300 flows of 5 packets of 100 bytes decode
// whole with their counters; cells per flow are the table's cells over the
// flows (not the packets); every fraction of the load table is a share, at
// most 1.
func TestFlowradarSection_Figures(t *testing.T) {
	r, out := frRun(300)
	if err := flowradarSection(r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	sec := out.String()
	if !regexp.MustCompile(`(?m)^flows decoded\s+300 of 300$`).MatchString(sec) {
		t.Errorf("not every flow decoded:\n%s", sec)
	}
	if m := regexp.MustCompile(`(?m)^table\s+cells=(\d+) `).FindStringSubmatch(sec); m == nil {
		t.Errorf("no table row with its cells:\n%s", sec)
	} else if cells, _ := strconv.Atoi(m[1]); row(t, sec, "cells per flow") != formatFloat(float64(cells)/300) {
		t.Errorf("cells per flow %s, want %d cells / 300 flows", row(t, sec, "cells per flow"), cells)
	}
	if got := row(t, sec, "decoded flows with wrong counters"); got != "0" {
		t.Errorf("decoded flows with wrong counters %s, want 0", got)
	}
	rows := regexp.MustCompile(`(?m)^(0\.8|1|1\.2|1\.3|1\.36)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)$`).FindAllStringSubmatch(sec, -1)
	if len(rows) != 5 {
		t.Fatalf("%d load rows, want 5:\n%s", len(rows), sec)
	}
	for _, m := range rows {
		for _, c := range m[2:] {
			if v, err := strconv.ParseFloat(c, 64); err != nil || v < 0 || v > 1 {
				t.Errorf("load %s: fraction %s, want a number in [0, 1]", m[1], c)
			}
		}
	}
}

// TestFlowradarLocate_Drops: the first spine drops 1% of what it forwards;
// of 15,000 packets it forwards at most half, so it drops at most 1% of
// all; the collector locates most of them, and never more.
func TestFlowradarLocate_Drops(t *testing.T) {
	const n = 3000
	r, out := frRun(n)
	if err := flowradarLocate(r, flowradar.ParamsFor(n, r.Seed), n); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`: (\d+) packets dropped; the collector locates (\d+) of them`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no loss localisation line:\n%s", out)
	}
	dropped, _ := strconv.Atoi(m[1])
	located, _ := strconv.Atoi(m[2])
	if dropped == 0 || dropped > len(r.Parsed)/100 || located*10 < dropped*9 || located > dropped {
		t.Errorf("%d of %d packets dropped, %d located; want up to 1%% dropped and 90%% to all of them located", dropped, len(r.Parsed), located)
	}
}

// TestFlowradarTableDiffers: the kernel's table must equal the Go
// encoder's in parameters and every cell: a table of one packet fewer,
// of one byte fewer, or with another seed differs.
func TestFlowradarTableDiffers(t *testing.T) {
	p := flowradar.ParamsFor(4, 3)
	k1 := flow.KeyFrom4([4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, 1, 2, flow.ProtoUDP)
	k2 := flow.KeyFrom4([4]byte{10, 0, 0, 3}, [4]byte{10, 0, 0, 4}, 1, 2, flow.ProtoTCP)
	table := func(p flowradar.Params, lastSize uint32, packets ...*flow.Key) *flowradar.Table {
		tab, err := flowradar.NewTable(p)
		if err != nil {
			t.Fatal(err)
		}
		for i, k := range packets {
			size := uint32(100)
			if i == len(packets)-1 {
				size = lastSize
			}
			tab.Add(k, size)
		}
		return tab
	}
	want := table(p, 100, &k1, &k2, &k1)
	if err := flowradarTableDiffers(table(p, 100, &k1, &k2, &k1), want); err != nil {
		t.Errorf("equal tables: %v", err)
	}
	for name, got := range map[string]*flowradar.Table{
		"one packet fewer": table(p, 100, &k1, &k2),
		"one byte fewer":   table(p, 99, &k1, &k2, &k1),
		"another seed":     table(flowradar.ParamsFor(4, 4), 100, &k1, &k2, &k1),
		"empty":            table(p, 0),
	} {
		if err := flowradarTableDiffers(got, want); err == nil || err.Error() != "flowradar: the kernel's table differs from the Go encoder's" {
			t.Errorf("%s: error %v", name, err)
		}
	}
}
