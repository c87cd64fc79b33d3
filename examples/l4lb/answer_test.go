//go:build linux

package main

import (
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestTCPAnswer: a backend's answer is its name, a newline and dots up to
// n bytes in all; an n below the name and newline gives those alone.
func TestTCPAnswer(t *testing.T) {
	const name = "10.200.11.2"
	for _, n := range []int{0, 5, len(name) + 1, len(name) + 2, 100} {
		want := name + "\n"
		for len(want) < n {
			want += "."
		}
		if got := string(tcpAnswer(name, n)); got != want {
			t.Errorf("tcpAnswer(%q, %d) = %q, want %q", name, n, got, want)
		}
	}
}

// TestReadAnswer: readAnswer returns the name of an answer of at least n
// bytes that holds a newline; a shorter answer, or one without a newline,
// is an error saying how many bytes arrived and how many were wanted.
func TestReadAnswer(t *testing.T) {
	read := func(answer string, n int) (string, error) {
		client, server := net.Pipe()
		go func() {
			server.Write([]byte(answer))
			server.Close()
		}()
		defer client.Close()
		return readAnswer(client, n)
	}
	for _, c := range []struct {
		answer string
		n      int
		name   string
		err    string
	}{
		{"b1\n....", 7, "b1", ""},
		{"b1\n.....", 7, "b1", ""},
		{"b1\n", 0, "b1", ""},
		{"b1\n...", 7, "", "answer of 6 bytes, want 7 (6 bytes read)"},
		{"b1", 0, "", "answer of 2 bytes, want 3 (2 bytes read)"},
		{"", 0, "", "answer of 0 bytes, want 1 (0 bytes read)"},
		{"backend", 3, "", "answer of 7 bytes, want 8 (7 bytes read)"},
	} {
		name, err := read(c.answer, c.n)
		if c.err == "" {
			if err != nil || name != c.name {
				t.Errorf("answer %q, n %d: %q, %v; want %q", c.answer, c.n, name, err, c.name)
			}
			continue
		}
		if err == nil || err.Error() != c.err || name != "" {
			t.Errorf("answer %q, n %d: %q, %v; want the error %q", c.answer, c.n, name, err, c.err)
		}
	}
}

// TestServeAnswers_StalledClient: an answer that a client does not read
// (bigger than what the sockets buffer) is given up after askTimeout, so
// the next client is answered and closing the listener ends the loop.
// Without the write deadline the loop stayed in that write.
//
// The stalled client's receive buffer is made small before it connects,
// so that an answer of twice the largest send buffer TCP gives a socket
// (tcp_wmem's maximum, 4 MiB by default) stalls the write, and the stalled
// client is left with part of it. The next client then has askTimeout to
// read its whole answer: 8 MiB by default, where an answer of 64 MiB, once
// sized to outgrow both sides' buffers, did not always arrive in time on a
// busy machine under the race detector.
func TestServeAnswers_StalledClient(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	answer := tcpAnswer("b1", 2*maxSendBuffer(t))
	done := make(chan struct{})
	go func() {
		serveAnswers(l, answer)
		close(done)
	}()
	small := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		return errors.Join(err, serr)
	}}
	stalled, err := small.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close() // not read until the next client has its answer
	next, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer next.Close()
	next.SetDeadline(time.Now().Add(askTimeout + 10*time.Second))
	if name, err := readAnswer(next, len(answer)); err != nil || name != "b1" {
		t.Fatalf("the client after a stalled one: %q, %v; want its answer", name, err)
	}
	stalled.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := readAnswer(stalled, len(answer)); err == nil || !strings.Contains(err.Error(), "want "+strconv.Itoa(len(answer))) {
		t.Errorf("the stalled client: %v; want part of its answer (the write given up)", err)
	}
	l.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("serveAnswers still runs 10 s after its listener closed")
	}
}

// maxSendBuffer returns the largest send buffer TCP gives a socket here
// (the third field of net.ipv4.tcp_wmem), or 4 MiB, Linux's default, if it
// cannot be read.
func maxSendBuffer(t *testing.T) int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_wmem")
	if f := strings.Fields(string(b)); err == nil && len(f) == 3 {
		if n, err := strconv.Atoi(f[2]); err == nil && n > 0 {
			return n
		}
	}
	t.Logf("tcp_wmem unreadable (%v): taking 4 MiB", err)
	return 4 << 20
}
