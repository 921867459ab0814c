#!/usr/bin/env bash
# Makes a DEMO service key (and a demo <alias>.p7b chain download) shaped like SAP's key-type "certificate" download (root CA -> intermediate CA -> client
# certificate with the Client Authentication EKU, PEM with \n escapes, RSA key as BEGIN RSA PRIVATE KEY), so the
# examples run without a BTP account. Usage: ./examples/new-demo-service-key.sh [out-folder]   (default: out/demo)
# Prints the path of each file it writes, one per line.
# The keys are throwaway test material made on your machine; never use them for anything real.
set -euo pipefail
out="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/out/demo}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
umask 077

cat > ext.cnf <<'CNF'
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF

openssl req -x509 -newkey rsa:2048 -nodes -keyout root.key -out root.pem -days 3650 -subj "/C=DE/O=Demo PKI/CN=Demo Root CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout int.key -out int.csr -subj "/C=DE/O=Demo PKI/CN=Demo Intermediate CA" 2>/dev/null
openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -CAcreateserial -out int.pem -days 1825 -extfile ext.cnf -extensions ca 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout leaf.key -out leaf.csr -subj "/C=DE/O=Demo Tenant/OU=Cloud Integration/CN=sb-demo-cert!b1234|it-rt-demo!b5678" 2>/dev/null
openssl x509 -req -in leaf.csr -CA int.pem -CAkey int.key -CAcreateserial -out leaf.pem -days 365 -extfile ext.cnf -extensions client 2>/dev/null
openssl rsa -in leaf.key -traditional -out leaf-rsa.key 2>/dev/null

# JSON string with literal \n escapes, as the BTP cockpit writes it.
esc() { awk 'BEGIN { ORS = "" } { gsub(/\\/, "\\\\"); gsub(/"/, "\\\""); print $0 "\\n" }' "$@"; }
cat > "$out/cpi-cert-key.json" <<JSON
{
  "oauth": {
    "clientid": "sb-demo-cert!b1234|it-rt-demo!b5678",
    "certificate": "$(esc leaf.pem int.pem root.pem)",
    "key": "$(esc leaf-rsa.key)",
    "url": "https://demo.it-cpi018-rt.cfapps.eu10-003.hana.ondemand.com",
    "tokenurl": "https://demo.authentication.cert.eu10.hana.ondemand.com/oauth/token"
  }
}
JSON
# The outbound side: a tenant key pair's chain download (<alias>.p7b), PKCS#7 certs-only, DER.
openssl crl2pkcs7 -nocrl -certfile leaf.pem -certfile int.pem -certfile root.pem -outform DER -out "$out/sap_cloudintegrationcertificate.p7b"
echo "$out/cpi-cert-key.json"
echo "$out/sap_cloudintegrationcertificate.p7b"
