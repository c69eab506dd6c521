package quota_test

import (
	"os"
	"testing"

	"github.com/helios-project/helios-scaffold/internal/s3test"
)

// The Lambda tests share one moto_server (s3test starts it on loopback on
// first use, and Run stops it).
func TestMain(m *testing.M) { os.Exit(s3test.Run(m)) }
