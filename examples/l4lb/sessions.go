//go:build linux

package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
)

// Sessions are TCP connections held open across a drain, to a port of
// their own (sessionPort): each sends a line before the drain and one
// after it, and the backend answers every line with its name. They show
// what a drain does to established connections. Without connection
// tracking, a connection that the new table sends to another backend
// breaks: that backend has no socket for it and answers with a reset.
// With it (Options.ConnTrack) the balancer keeps every connection on its
// backend, the drained one's included.
const (
	sessionPort   = 7002
	drainSessions = 30 // sessions held open across a drain
)

// sessionServer answers sessions on one backend: every line a
// connection sends gets the backend's name and a newline back, until the
// client closes it. Close closes the listener and every connection.
type sessionServer struct {
	l     net.Listener
	mu    sync.Mutex
	conns []net.Conn
	done  bool
}

// serve accepts connections until the listener closes, answering each in
// a goroutine that wg tracks.
func (s *sessionServer) serve(name string, wg *sync.WaitGroup) {
	defer wg.Done()
	for {
		c, err := s.l.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.done { // accepted as Close ran: Close has not seen it
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns = append(s.conns, c)
		s.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			r := bufio.NewReader(c)
			for {
				if _, err := r.ReadString('\n'); err != nil {
					return
				}
				if _, err := c.Write([]byte(name + "\n")); err != nil {
					return
				}
			}
		}()
	}
}

func (s *sessionServer) Close() error {
	err := s.l.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done = true
	for _, c := range s.conns {
		c.Close()
	}
	return err
}

// session is one client connection held open across the drain.
type session struct {
	c       net.Conn
	r       *bufio.Reader
	backend string // the backend that answered before the drain
}

// exchange sends a line on s and returns the name answered, within
// askTimeout (or ctx).
func (s *session) exchange(ctx context.Context, line string) (string, error) {
	s.c.SetDeadline(time.Now().Add(askTimeout))
	stop := context.AfterFunc(ctx, func() { s.c.SetDeadline(time.Now()) })
	defer stop()
	if _, err := s.c.Write([]byte(line + "\n")); err != nil {
		return "", err
	}
	name, err := s.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(name, "\n"), nil
}

// openSessions dials n sessions with dial (in the client's namespace) and
// has each answered once. On an error it closes those it opened; when ctx
// ends (SIGINT) the error is ctx's, not the timeout that ended the
// exchange under way (which main would report as a failure).
func openSessions(ctx context.Context, n int, dial func() (net.Conn, error)) ([]*session, error) {
	var ss []*session
	for i := range n {
		c, err := dial()
		if err == nil {
			s := &session{c: c, r: bufio.NewReader(c)}
			ss = append(ss, s)
			s.backend, err = s.exchange(ctx, "hello")
		}
		if err != nil {
			closeSessions(ss)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("session %d of %d before the drain: %w", i+1, n, err)
		}
	}
	return ss, nil
}

// closeSessions closes every session of ss.
func closeSessions(ss []*session) {
	for _, s := range ss {
		s.c.Close()
	}
}

// resumeSessions sends a line on each session after the drain and counts
// in d the sessions, the drained backend's, those answered by the backend
// they had, those that broke (reset, or no answer), and those that the new
// table sends elsewhere (away reports it for a session). Breaking is
// what is being observed, not a failure of the run.
func resumeSessions(ctx context.Context, ss []*session, d *Drained, away func(*session) bool) error {
	for _, s := range ss {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// A session counts once its outcome is known, as send counts a
		// request: one cut short by ctx (SIGINT) counts nowhere.
		switch name, err := s.exchange(ctx, "again"); {
		case err != nil && ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			d.SessionsBroken++
		case name == s.backend:
			d.SessionsKept++
		default:
			// A connection cannot move to another backend and live: that
			// backend would have no socket for it.
			return fmt.Errorf("drain: a session of %s was answered by %s", s.backend, name)
		}
		d.Sessions++
		if s.backend == d.Backend {
			d.SessionsOwn++
		}
		if away(s) {
			d.SessionsAway++
		}
	}
	return nil
}
