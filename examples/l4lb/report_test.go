//go:build linux

package main

import (
	"bytes"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/maglev/xdp"
)

// TestReport_Counters: the kernel line adds up every pass and every drop
// counter, later fragments passed as unknown (PassFragMiss) and packets
// dropped for want of an outer source (DropNoSource) included.
func TestReport_Counters(t *testing.T) {
	res := Result{Backends: []string{"10.200.11.2"}, Answered: map[string]int{"10.200.11.2": 1}, Sent: 1,
		TableFrac: map[string]float64{"10.200.11.2": 1}}
	res.Stats.Counters = xdp.Counters{TX: 1, PassParse: 1, PassVLAN: 2, PassNotVIP: 4, PassFragMiss: 8,
		DropNoTable: 16, DropNoBackend: 32, DropTooBig: 64, DropEncap: 128, DropNoSource: 256, ICMPQuote: 1}
	var b bytes.Buffer
	report(&b, res)
	if want := "kernel: tx 1 (ICMP errors with the flow they quote 1), passed 15 (not a VIP 4), dropped 496\n" + legend + "\n"; !strings.HasSuffix(b.String(), want) {
		t.Errorf("report ends\n%q\nwant\n%q", b.String(), want)
	}
}

// TestReport_Table: the first line counts the requests sent (UDP and
// TCP), those answered (and of them those answered only after a retry)
// and those answered by the predicted backend; each backend's
// row, sorted by address, gives its answers, its share of the answers,
// its share of the table and the kernel's packets and bytes for it. With
// no answer every share of the answers is 0%, and a run that never built
// its table (an early error) writes nothing. IPv6 names, longer than the
// column IPv4's fit in, widen it.
func TestReport_Table(t *testing.T) {
	for _, f := range families {
		testReportTable(t, f)
	}
	var b bytes.Buffer
	report(&b, Result{Sent: 3})
	if b.Len() != 0 {
		t.Errorf("report of a run without a table wrote\n%s", b.String())
	}
}

func testReportTable(t *testing.T, f family) {
	b1, b2 := f.backend(1), f.backend(2)
	res := Result{
		Backends:  []string{b2, b1},
		Answered:  map[string]int{b1: 3, b2: 1},
		Sent:      5,
		SentTCP:   2,
		Retried:   1,
		Agree:     2,
		TableFrac: map[string]float64{b1: 0.25, b2: 0.75},
	}
	res.Stats.Backends = map[netip.Addr]xdp.BackendStats{
		mustAddr(b1): {Packets: 7, Bytes: 700},
		mustAddr(b2): {Packets: 9, Bytes: 900},
	}
	check := func(name string, res Result, first string, rows [][]string) {
		t.Helper()
		var b bytes.Buffer
		report(&b, res)
		lines := strings.Split(b.String(), "\n")
		if len(lines) != 4+len(rows)+1 || lines[0] != first {
			t.Fatalf("%s: report\n%s\nwant %d rows after %q", name, b.String(), len(rows), first)
		}
		// The names' column is as wide as the longest name, and at
		// least "10.200.19.2" and a space.
		if w := max(12, len(b1)); !strings.HasPrefix(lines[1], "backend"+strings.Repeat(" ", w-len("backend"))+"  answers") {
			t.Errorf("%s: header %q: want the backend column %d wide", name, lines[1], w)
		}
		for i, want := range rows {
			if got := strings.Fields(lines[2+i]); !slices.Equal(got, want) {
				t.Errorf("%s: row %d is %q, want the fields %q", name, i, lines[2+i], want)
			}
			// Each column's header ends where its values end.
			for j, h := range []string{"answers", "share", "table", "kernel pkts", "kernel bytes"} {
				end := strings.Index(lines[1], h) + len(h)
				v := want[1+j]
				row := lines[2+i] + " "
				if end > len(row)-1 || row[end-len(v):end] != v || row[end] != ' ' {
					t.Errorf("%s: row %q: %s %q does not end under its header %q", name, row, h, v, lines[1])
				}
			}
		}
	}
	check("answered", res, "5 requests (3 UDP, 2 TCP), 4 answered (1 after a retry), 2 by the backend the Go table predicts", [][]string{
		{b1, "3", "75.0%", "25.0%", "7", "700"},
		{b2, "1", "25.0%", "75.0%", "9", "900"},
	})
	res.Answered, res.Agree, res.Retried = map[string]int{}, 0, 0
	check("unanswered", res, "5 requests (3 UDP, 2 TCP), 0 answered (0 after a retry), 0 by the backend the Go table predicts", [][]string{
		{b1, "0", "0.0%", "25.0%", "7", "700"},
		{b2, "0", "0.0%", "75.0%", "9", "900"},
	})
}

// TestReport_Drain: a drain adds a line before the legend with the flows
// sent again, answered, as predicted, moved, and of those the drained
// backend's, beside the share of the hash space the tables move; one
// with the TCP connections held open across it, kept and broken; and one
// with the new TCP connections, as predicted and by the drained backend.
func TestReport_Drain(t *testing.T) {
	res := Result{Backends: []string{"a", "b"}, Answered: map[string]int{"a": 1, "b": 1}, Sent: 2,
		TableFrac: map[string]float64{"a": 0.5, "b": 0.5},
		Drain: Drained{Backend: "b", Flows: 10, Answered: 9, Agree: 8, Moved: 5, MovedOwn: 4, Own: 4, Predicted: 0.5, Share: 0.5,
			Sessions: 30, SessionsOwn: 11, SessionsAway: 12, SessionsKept: 18, SessionsBroken: 12,
			NewTCP: NewFlows{Sent: 9, Answered: 8, Agree: 7, Drained: 1}}}
	var b bytes.Buffer
	report(&b, res)
	want := "drain b (it held 50.0% of the table): 10 UDP flows again, 9 answered, 8 by the backend the new table predicts; 5 moved: 4 of its 4, 1 of the other backends' (the tables move 50.0% of the hash space)\n" +
		"30 TCP connections held open across the drain (11 of them the drained backend's): 18 kept their backend, 12 broke; the new table sends 12 elsewhere\n" +
		"then 9 new TCP connections, 8 answered, 7 by the backend the new table predicts, 1 by the drained backend\n" + legend + "\n"
	if !strings.HasSuffix(b.String(), want) {
		t.Errorf("report ends\n%q\nwant\n%q", b.String(), want)
	}
}

// TestReport_DrainConnTrack: with connection tracking the drain line
// counts the flows that kept their backend; then come the held
// connections' line and a line each for the new UDP flows and the new TCP
// connections, in the order they were sent, with how many reached the
// drained backend.
func TestReport_DrainConnTrack(t *testing.T) {
	res := Result{Backends: []string{"a", "b"}, Answered: map[string]int{"a": 1, "b": 1}, Sent: 2,
		TableFrac: map[string]float64{"a": 0.5, "b": 0.5},
		Drain: Drained{Backend: "b", ConnTrack: true, Flows: 10, Answered: 9, Agree: 8, Moved: 1, MovedOwn: 1, Own: 4, Predicted: 0.5, Share: 0.5,
			Sessions: 30, SessionsOwn: 11, SessionsAway: 11, SessionsKept: 30,
			NewUDP: NewFlows{Sent: 7, Answered: 6, Agree: 5}, NewTCP: NewFlows{Sent: 3, Answered: 3, Agree: 3}}}
	var b bytes.Buffer
	report(&b, res)
	want := "drain b (it held 50.0% of the table), connections tracked: 10 UDP flows again, 9 answered; 1 moved: 1 of its 4, 0 of the other backends'\n" +
		"30 TCP connections held open across the drain (11 of them the drained backend's): 30 kept their backend, 0 broke; the new table sends 11 elsewhere\n" +
		"then 7 new UDP flows, 6 answered, 5 by the backend the new table predicts, 0 by the drained backend\n" +
		"then 3 new TCP connections, 3 answered, 3 by the backend the new table predicts, 0 by the drained backend\n" + legend + "\n"
	if !strings.HasSuffix(b.String(), want) {
		t.Errorf("report ends\n%q\nwant\n%q", b.String(), want)
	}
}
