// Command release runs the release workflow one step per command: bump a stack's version,
// release a version to the stack releases land on (commit + annotated tag), promote what a
// stack's source runs to it, and print a stack's version. Which stack promotes from which comes
// from the stack files (jobs:promoteFrom; package release). Every step checks everything before
// it changes anything, and changes only files a reviewer sees in the next commit.
//
//	go run ./tools/release bump -stack test -version 0.2.0 [-force]
//	go run ./tools/release release -version 0.2.0 [-stack test]
//	go run ./tools/release promote [-stack prod] [-source-version-from FILE|-] [-require-deployed] [-force]
//	go run ./tools/release version -stack prod
//	go run ./tools/release stacks [-json] [-long-lived] [-affected < changed-paths]
//	go run ./tools/release sources
//	go run ./tools/release review -pr 7 [-name-only]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"

	"github.com/example/jobs/release"
)

// console is the process's outside world, passed in so tests can drive every command in-process.
type console struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

const usage = `usage: release <command> [flags]

commands:
  bump     -stack STACK -version X.Y.Z [-force]   set jobs:version in Pulumi.STACK.yaml
  release  -version X.Y.Z [-stack STACK]          bump the stack releases land on (test), commit
                                                  it and tag the commit X.Y.Z
  promote  [-stack STACK] [-source-version-from FILE|-] [-require-deployed] [-force]
                                                  set STACK (prod) to the version its
                                                  jobs:promoteFrom stack runs
  version  -stack STACK [-expect X.Y.Z]           print jobs:version of Pulumi.STACK.yaml (-expect:
                                                  fail unless it is X.Y.Z)
  stacks   [-json] [-long-lived] [-affected]       print every stack, each after the one it
                                                  promotes from (the order make up deploys in);
                                                  -affected reads changed paths on stdin
  sources                                         print the stacks another stack promotes from
                                                  (the ones make up verifies before going on)
  review   -pr N [-name-only]                     write the stack file of pull request N's review
                                                  stack (test's settings, review.yaml's, its own
                                                  version) and print its name

every command takes -dir DIR (the Pulumi project directory, default ".")
run "release <command> -h" for the flags of one command`

// errUsage marks errors already explained on stderr by the flag package.
var errUsage = errors.New("bad usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	c := console{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	if err := run(ctx, os.Args[1:], c); err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "release:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, c console) error {
	if len(args) == 0 {
		fmt.Fprintln(c.stderr, usage)
		return errUsage
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "bump":
		return runBump(args, c)
	case "release":
		return runRelease(ctx, args, c)
	case "promote":
		return runPromote(ctx, args, c)
	case "version":
		return runVersion(args, c)
	case "stacks":
		return runStacks(args, c)
	case "sources":
		return runSources(args, c)
	case "review":
		return runReview(args, c)
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(c.stdout, usage)
		return nil
	}
	fmt.Fprintln(c.stderr, usage)
	return fmt.Errorf("unknown command %q: use one of bump, release, promote, version, stacks, sources, review", cmd)
}

// newFlags makes a flag set that reports to stderr instead of exiting, with the shared -dir flag.
func newFlags(name string, c console) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	dir := fs.String("dir", ".", "Pulumi project `directory` holding Pulumi.<stack>.yaml")
	return fs, dir
}

// parseFlags parses args and rejects stray positional arguments, which usually mean a flag was
// mistyped (for example "bump test 0.2.0" instead of "-stack test -version 0.2.0").
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		// The flag package has already printed what was wrong and the flag list.
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument(s) %s: pass values with flags, for example -version 0.2.0", fs.Name(), strings.Join(fs.Args(), " "))
	}
	return nil
}

func runVersion(args []string, c console) error {
	fs, dir := newFlags("version", c)
	stack := fs.String("stack", "", "stack `name`")
	expect := fs.String("expect", "", "fail unless the stack's version is this `version` (what an approver approved)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	f, err := readStackFile(*dir, *stack)
	if err != nil {
		return err
	}
	if *expect != "" && f.version() != *expect {
		return fmt.Errorf("Pulumi.%s.yaml sets jobs:version %s, not %s: run make promote, merge its pull request, then run this with version %s",
			*stack, f.version(), *expect, f.version())
	}
	fmt.Fprintln(c.stdout, f.version())
	return nil
}

func runStacks(args []string, c console) error {
	fs, dir := newFlags("stacks", c)
	asJSON := fs.Bool("json", false, "print a JSON list (a CI matrix)")
	longLived := fs.Bool("long-lived", false, "leave out review stacks (pr-<n>)")
	affected := fs.Bool("affected", false, "only the stacks the changed files read on stdin (one path a line, git diff --name-only) affect")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	top, err := release.ReadTopology(*dir)
	if err != nil {
		return err
	}
	stacks := []string{}
	for _, s := range top.Order() {
		if *longLived && release.IsReviewStack(s) {
			continue
		}
		stacks = append(stacks, s)
	}
	if *affected {
		b, err := io.ReadAll(c.stdin)
		if err != nil {
			return err
		}
		stacks = release.Affected(stacks, strings.Fields(string(b)))
	}
	if *asJSON {
		b, _ := json.Marshal(stacks)
		fmt.Fprintln(c.stdout, string(b))
		return nil
	}
	for _, s := range stacks {
		fmt.Fprintln(c.stdout, s)
	}
	return nil
}

func runSources(args []string, c console) error {
	fs, dir := newFlags("sources", c)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	top, err := release.ReadTopology(*dir)
	if err != nil {
		return err
	}
	for _, s := range top.Order() {
		if slices.ContainsFunc(top.Stacks, func(other string) bool { return top.Source(other) == s }) {
			fmt.Fprintln(c.stdout, s)
		}
	}
	return nil
}

func runReview(args []string, c console) error {
	fs, dir := newFlags("review", c)
	pr := fs.String("pr", "", "pull request `number`, as GitHub shows it without '#'")
	nameOnly := fs.Bool("name-only", false, "print the review stack's name and write nothing")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *nameOnly {
		stack, err := release.ReviewStack(*pr)
		if err != nil {
			return err
		}
		fmt.Fprintln(c.stdout, stack)
		return nil
	}
	rf, err := release.MakeReviewFile(*dir, *pr)
	if err != nil {
		return err
	}
	for _, n := range rf.Notes {
		fmt.Fprintln(c.stderr, "review:", n)
	}
	fmt.Fprintf(c.stderr, "review: wrote Pulumi.%s.yaml: stack %s's settings with %s's, version %s\n", rf.Stack, rf.Base, release.ReviewTemplate, rf.Version)
	fmt.Fprintln(c.stdout, rf.Stack)
	return nil
}
