//go:build linux

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fakeAsk answers request k (counted from 0) as script(k) says: tries 0
// is an interruption (ctx cancelled during the request), a negative
// tries a failure after -tries tries, otherwise an answer by "b" after
// that many tries. It records which requests were TCP.
type fakeAsk struct {
	script func(k int) int
	cancel context.CancelFunc
	k      int
	tcp    []bool
}

func (f *fakeAsk) ask(tcp bool, from uint16) (answer, error) {
	k := f.k
	f.k++
	f.tcp = append(f.tcp, tcp)
	switch n := f.script(k); {
	case n == 0:
		f.cancel()
		return answer{Tries: 1}, context.Canceled
	case n < 0:
		return answer{Tries: -n}, fmt.Errorf("request %d lost", k)
	default:
		return answer{Got: "b", Want: "b", From: uint16(1000 + k), Tries: n}, nil
	}
}

// TestSend_Counts: requests answered at the first try, after a retry and
// not at all are counted apart, TCP requests are spread among the UDP
// ones, and each failure is logged as it happens.
func TestSend_Counts(t *testing.T) {
	f := &fakeAsk{script: func(k int) int {
		switch k {
		case 2, 7:
			return -3
		case 4:
			return 2
		}
		return 1
	}, cancel: func() {}}
	var log strings.Builder
	var res Result
	err := send(context.Background(), Options{UDP: 8, TCP: 2, Log: &log}, &res, f.ask)
	if err == nil || !strings.HasPrefix(err.Error(), "2 of 10 requests unanswered; the last: request 7 lost") {
		t.Errorf("send: %v, want 2 of 10 unanswered", err)
	}
	if res.Sent != 10 || res.SentTCP != 2 || res.Answered["b"] != 8 || res.Agree != 8 || res.Retried != 1 {
		t.Errorf("sent %d (TCP %d), answered %v, agree %d, retried %d; want 10 (2), 8, 8, 1",
			res.Sent, res.SentTCP, res.Answered, res.Agree, res.Retried)
	}
	// The UDP requests answered are the flows a drain sends again.
	var flows []udpFlow
	for _, k := range []int{1, 3, 4, 6, 8, 9} {
		flows = append(flows, udpFlow{uint16(1000 + k), "b"})
	}
	if !slices.Equal(res.flows, flows) {
		t.Errorf("flows %v, want %v", res.flows, flows)
	}
	tcp := 0
	for k, b := range f.tcp {
		if b {
			tcp++
			if k != 0 && k != 5 {
				t.Errorf("request %d is TCP; with 10 requests, 2 TCP, want requests 0 and 5", k)
			}
		}
	}
	if tcp != 2 {
		t.Errorf("%d TCP requests, want 2", tcp)
	}
	if want := "request 3: request 2 lost\nrequest 8: request 7 lost\n"; log.String() != want {
		t.Errorf("log %q, want %q", log.String(), want)
	}
}

// TestSend_Interrupted: a request cut short by the interruption counts
// neither as sent nor as answered, none follows it, and send returns the
// context's error.
func TestSend_Interrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := &fakeAsk{script: func(k int) int {
		if k == 5 {
			return 0
		}
		return 1
	}, cancel: cancel}
	var res Result
	err := send(ctx, Options{UDP: 100}, &res, f.ask)
	if !errors.Is(err, context.Canceled) || res.Sent != 5 || res.Answered["b"] != 5 || f.k != 6 {
		t.Errorf("send: %v; %d sent, answers %v, %d asked; want context.Canceled, 5, 5, 6", err, res.Sent, res.Answered, f.k)
	}
}

// TestSend_Stops: maxFailures unanswered requests in a row stop the run;
// fewer in a row, broken by an answer, do not.
func TestSend_Stops(t *testing.T) {
	f := &fakeAsk{script: func(k int) int {
		if k < maxFailures-1 || k > maxFailures {
			return -3 // maxFailures-1 failures, an answer, then failures
		}
		return 1
	}, cancel: func() {}}
	var log strings.Builder
	var res Result
	err := send(context.Background(), Options{UDP: 100, Log: &log}, &res, f.ask)
	want := fmt.Sprintf("stopped after %d requests in a row went unanswered (%d sent)", maxFailures, 2*maxFailures+1)
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("send: %v, want an error starting %q", err, want)
	}
	if f.k != 2*maxFailures+1 || res.Sent != f.k || res.Answered["b"] != 2 {
		t.Errorf("%d asked, %d sent, answers %v; want %d, %d, 2", f.k, res.Sent, res.Answered, 2*maxFailures+1, 2*maxFailures+1)
	}
	if n := strings.Count(log.String(), "\n"); n != 2*maxFailures-1 {
		t.Errorf("%d failures logged, want %d:\n%s", n, 2*maxFailures-1, log.String())
	}
}

// TestWithoutCanceled: main reports an interrupted run's other errors
// without the context's.
func TestWithoutCanceled(t *testing.T) {
	other := errors.New("ip netns del: busy")
	for _, c := range []struct {
		err, want error
	}{
		{nil, nil},
		{context.Canceled, nil},
		{errors.Join(context.Canceled, nil), nil},
		{other, other},
		{errors.Join(context.Canceled, other), other},
		{fmt.Errorf("drain: %w", context.Canceled), nil},
		// Wrapped whole: kept whole (it was dropped, other and all).
		{fmt.Errorf("drain: %w", errors.Join(context.Canceled, other)), fmt.Errorf("drain: %w", errors.Join(context.Canceled, other))},
	} {
		got := withoutCanceled(c.err)
		if (got == nil) != (c.want == nil) || got != nil && got.Error() != c.want.Error() {
			t.Errorf("withoutCanceled(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// TestExitStatus: an interrupted run exits as a shell reports a command
// the signal ended, 128 plus its number: 143 for SIGTERM (it was 130 for
// every signal), 129 for SIGHUP; 130 when the cause is not a signal.
func TestExitStatus(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP} {
		ctx, stop := notifyContext(context.Background(), sig)
		if err := syscall.Kill(os.Getpid(), sig); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Second):
			t.Fatalf("%v: context not canceled 10 s after the signal", sig)
		}
		if got, want := exitStatus(ctx), 128+int(sig); got != want {
			t.Errorf("%v: exit status %d, want %d (cause %v)", sig, got, want, context.Cause(ctx))
		}
		stop()
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got := exitStatus(ctx); got != 130 {
		t.Errorf("canceled without a signal: exit status %d, want 130", got)
	}
	ctx, stop := notifyContext(context.Background(), syscall.SIGTERM)
	stop()
	if got := context.Cause(ctx); got != context.Canceled {
		t.Errorf("stopped: cause %v, want context.Canceled", got)
	}
}

// TestResend: each flow goes again from its port; those answered by
// another backend moved, and those of the drained backend are counted
// apart. A failure is logged and counted.
func TestResend(t *testing.T) {
	flows := []udpFlow{{1, "a"}, {2, "b"}, {3, "b"}, {4, "c"}, {5, "b"}, {6, "a"}}
	after := map[uint16]answer{ // port 6 is lost
		1: {Got: "a", Want: "a"}, 2: {Got: "a", Want: "a"}, 3: {Got: "c", Want: "c"},
		4: {Got: "a", Want: "c"}, 5: {Got: "b", Want: "c"},
	}
	var ports []uint16
	ask := func(tcp bool, from uint16) (answer, error) {
		if tcp {
			t.Errorf("resend sent a TCP request")
		}
		ports = append(ports, from)
		a, ok := after[from]
		if !ok {
			return answer{Tries: 3}, errors.New("lost")
		}
		a.From, a.Tries = from, 1
		return a, nil
	}
	var log strings.Builder
	d, err := resend(context.Background(), Options{Log: &log}, flows, "b", ask)
	if err == nil || err.Error() != "drain: 1 of 6 flows unanswered; the last: lost" {
		t.Errorf("resend: %v, want 1 of 6 unanswered", err)
	}
	want := Drained{Backend: "b", Flows: 6, Answered: 5, Agree: 3, Moved: 3, MovedOwn: 2, Own: 3}
	if d != want {
		t.Errorf("resend = %+v, want %+v", d, want)
	}
	if !slices.Equal(ports, []uint16{1, 2, 3, 4, 5, 6}) {
		t.Errorf("ports %v, want each flow's", ports)
	}
	if log.String() != "drain: flow from port 6: lost\n" {
		t.Errorf("log %q", log.String())
	}
}

// TestResend_ConnTrack: with connection tracking a flow is expected back
// at the backend it had, not at the new table's pick: Agree counts those,
// and a flow that moved is one the balancer did not keep.
func TestResend_ConnTrack(t *testing.T) {
	flows := []udpFlow{{1, "a"}, {2, "b"}, {3, "b"}, {4, "c"}}
	after := map[uint16]answer{ // Want: the new table's pick, which tracking overrides
		1: {Got: "a", Want: "a"}, 2: {Got: "b", Want: "a"}, 3: {Got: "c", Want: "c"}, 4: {Got: "c", Want: "a"},
	}
	ask := func(tcp bool, from uint16) (answer, error) {
		a := after[from]
		a.From, a.Tries = from, 1
		return a, nil
	}
	d, err := resend(context.Background(), Options{ConnTrack: true}, flows, "b", ask)
	if err != nil {
		t.Fatal(err)
	}
	want := Drained{Backend: "b", ConnTrack: true, Flows: 4, Answered: 4, Agree: 3, Moved: 1, MovedOwn: 1, Own: 2}
	if d != want {
		t.Errorf("resend = %+v, want %+v", d, want)
	}
}

// TestSendNew: the new UDP flows come from ports 20000 up and the new
// TCP connections from ports 10000 up, one each, below the ephemeral
// ports the first round's flows had; each is counted as answered, as
// predicted by the new table, and by the drained backend. Failures are
// logged and counted, and maxFailures in a row stop it.
func TestSendNew(t *testing.T) {
	for _, c := range []struct {
		tcp   bool
		first uint16
		what  string
	}{{false, 20000, "UDP flow"}, {true, 10000, "TCP connection"}} {
		var ports []uint16
		got := []string{"a", "b", "", "c", "a"} // "" is lost
		want := []string{"a", "a", "", "c", "c"}
		ask := func(tcp bool, from uint16) (answer, error) {
			if tcp != c.tcp {
				t.Errorf("sendNew(tcp %v) asked with tcp %v", c.tcp, tcp)
			}
			i := len(ports)
			ports = append(ports, from)
			if got[i] == "" {
				return answer{Tries: 3}, errors.New("lost")
			}
			return answer{Got: got[i], Want: want[i], From: from, Tries: 1}, nil
		}
		var log strings.Builder
		o := Options{UDP: 5, TCP: 5, Log: &log}
		if c.tcp {
			o.UDP = 7 // the count is TCP's
		} else {
			o.TCP = 7 // the count is UDP's
		}
		nf, err := sendNew(context.Background(), o, c.tcp, "b", ask)
		if err == nil || err.Error() != "drain: 1 of 5 new "+c.what+"s unanswered; the last: lost" {
			t.Errorf("%ss: %v, want 1 of 5 unanswered", c.what, err)
		}
		if w := (NewFlows{Sent: 5, Answered: 4, Agree: 2, Drained: 1}); nf != w {
			t.Errorf("%ss: counted %+v, want %+v", c.what, nf, w)
		}
		f := c.first
		if !slices.Equal(ports, []uint16{f, f + 1, f + 2, f + 3, f + 4}) {
			t.Errorf("%ss: ports %v, want %d to %d", c.what, ports, f, f+4)
		}
		if w := fmt.Sprintf("drain: new %s from port %d: lost\n", c.what, f+2); log.String() != w {
			t.Errorf("%ss: log %q, want %q", c.what, log.String(), w)
		}

		// maxFailures in a row stop it.
		n := 0
		lost := func(tcp bool, from uint16) (answer, error) { n++; return answer{}, errors.New("lost") }
		_, err = sendNew(context.Background(), Options{UDP: 50, TCP: 50}, c.tcp, "b", lost)
		if n != maxFailures || err == nil || !strings.HasPrefix(err.Error(), fmt.Sprintf("drain: stopped after %d new %ss in a row", maxFailures, c.what)) {
			t.Errorf("%ss: %d requests, error %v; want %d and a stop", c.what, n, err, maxFailures)
		}
	}
}

// TestSessions: sessions opened against two backends' session servers
// (on loopback here) are answered once before the drain; after it, those
// whose backend still serves them are kept, those whose backend is gone
// (here its server closed, as a reset would end them) broke, and away is
// asked of each. A session answered by another backend is an error.
func TestSessions(t *testing.T) {
	var wg sync.WaitGroup
	servers := map[string]*sessionServer{}
	for _, name := range []string{"a", "b"} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Skip("no loopback TCP:", err)
		}
		servers[name] = &sessionServer{l: l}
		wg.Add(1)
		go servers[name].serve(name, &wg)
	}
	defer func() {
		for _, s := range servers {
			s.Close()
		}
		wg.Wait()
	}()
	order := []string{"a", "b", "a", "b", "b"}
	i := 0
	ss, err := openSessions(context.Background(), len(order), func() (net.Conn, error) {
		i++
		return net.Dial("tcp", servers[order[i-1]].l.Addr().String())
	})
	if err != nil {
		t.Fatal(err)
	}
	defer closeSessions(ss)
	for j, s := range ss {
		if s.backend != order[j] {
			t.Fatalf("session %d answered by %q, want %q", j, s.backend, order[j])
		}
	}
	servers["a"].Close() // drained, and its connections reset
	d := Drained{Backend: "a"}
	asked := 0
	away := func(s *session) bool { asked++; return s.backend == "a" }
	if err := resumeSessions(context.Background(), ss, &d, away); err != nil {
		t.Fatal(err)
	}
	want := Drained{Backend: "a", Sessions: 5, SessionsOwn: 2, SessionsAway: 2, SessionsKept: 3, SessionsBroken: 2}
	if d != want || asked != 5 {
		t.Errorf("resumeSessions counted %+v (away asked %d times), want %+v (5)", d, asked, want)
	}

	// A session answered by another backend than before.
	c, srv := net.Pipe()
	go func() {
		r := bufio.NewReader(srv)
		r.ReadString('\n')
		srv.Write([]byte("c\n"))
		srv.Close()
	}()
	d = Drained{Backend: "a"}
	moved := []*session{{c: c, r: bufio.NewReader(c), backend: "b"}}
	if err := resumeSessions(context.Background(), moved, &d, away); err == nil || err.Error() != "drain: a session of b was answered by c" {
		t.Errorf("session answered by another backend: %v", err)
	}

	// A dial that fails closes the sessions opened before it.
	var opened []net.Conn
	_, err = openSessions(context.Background(), 3, func() (net.Conn, error) {
		if len(opened) == 2 {
			return nil, errors.New("refused")
		}
		c, err := net.Dial("tcp", servers["b"].l.Addr().String())
		opened = append(opened, c)
		return c, err
	})
	if err == nil || err.Error() != "session 3 of 3 before the drain: refused" {
		t.Errorf("openSessions with the third dial failing: %v", err)
	}
	for i, c := range opened {
		if _, err := c.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
			t.Errorf("session %d after the failed dial: read %v, want it closed", i+1, err)
		}
	}

	// A session waiting for its answer ends when ctx does, and counts
	// nowhere.
	wc, wsrv := net.Pipe()
	defer wsrv.Close()
	go func() { bufio.NewReader(wsrv).ReadString('\n') }() // reads the line, never answers
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	d = Drained{Backend: "a"}
	start := time.Now()
	waiting := []*session{{c: wc, r: bufio.NewReader(wc), backend: "b"}}
	if err := resumeSessions(ctx, waiting, &d, away); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > askTimeout/2 {
		t.Errorf("resumeSessions with ctx ending: %v after %v, want ctx's error at once", err, time.Since(start))
	}
	if d != (Drained{Backend: "a"}) {
		t.Errorf("a session cut short was counted: %+v", d)
	}

	// Opening sessions ends when ctx does, with ctx's error (it used to
	// return the timeout that cut the exchange short, which main reported
	// as a failure beside "interrupted"), and closes those opened.
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var dialled []net.Conn
	_, err = openSessions(ctx, 3, func() (net.Conn, error) {
		c, srv := net.Pipe()
		dialled = append(dialled, c)
		go func() { // reads the line, never answers
			bufio.NewReader(srv).ReadString('\n')
		}()
		t.Cleanup(func() { srv.Close() })
		return c, nil
	})
	if !errors.Is(err, context.DeadlineExceeded) || len(dialled) != 1 {
		t.Errorf("openSessions with ctx ending: %v after %d dials, want ctx's error after 1", err, len(dialled))
	}
	for _, c := range dialled {
		if _, err := c.Write([]byte("x")); !errors.Is(err, io.ErrClosedPipe) {
			t.Errorf("session opened before ctx ended: write %v, want it closed", err)
		}
	}
}
