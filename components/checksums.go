package components

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Pod templates carry checksums of the config and the secret their containers read at start
// (env vars, redis.conf). Changing a Secret or ConfigMap does not restart the pods that read it,
// so without these a rotated password or a new redis.conf would wait for the next unrelated
// restart, and a Redis restarted for another reason would refuse the API's old password.
const (
	redisConfigChecksum = "checksum/redis-config"
	redisAuthChecksum   = "checksum/redis-auth"
)

func checksum(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// secretChecksum keeps the checksum of a secret secret too: state and previews then never show
// even the hash of a password.
func secretChecksum(s pulumi.StringInput) pulumi.StringOutput {
	return pulumi.ToSecret(s.ToStringOutput().ApplyT(checksum)).(pulumi.StringOutput)
}
