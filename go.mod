module github.com/example/jobs

go 1.26.6

require github.com/Masterminds/semver/v3 v3.5.0
