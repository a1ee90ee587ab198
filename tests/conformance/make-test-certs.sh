#!/usr/bin/env bash
# Test certificates for sprite-sim over TLS, made with openssl in a folder of the caller's:
#
#   tests/conformance/make-test-certs.sh DIR
#
# writes DIR/ca.pem (a throwaway CA), DIR/server.pem + DIR/server-key.pem (signed by it, for
# localhost and 127.0.0.1, valid 2 days), DIR/other-ca.pem (a CA that signed nothing here) and
# DIR/ca-dir/ (ca.pem hashed by `openssl rehash`, for SSL_CERT_DIR). Then:
#
#   sprite-sim --tls-cert DIR/server.pem --tls-key DIR/server-key.pem …   # https://localhost:PORT
#   SSL_CERT_FILE=DIR/ca.pem task …                                       # trusts it
#
# The keys are test keys only: nothing else trusts the CA, and the folder is the caller's to delete.
set -euo pipefail
dir="${1:?usage: make-test-certs.sh DIR}"
mkdir -p "$dir/ca-dir"
cd "$dir"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
ca_ext=(-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign")
openssl req -x509 "${ec[@]}" -keyout ca-key.pem -out ca.pem -days 2 -subj "/CN=sprite-sim test CA" "${ca_ext[@]}" 2>/dev/null
openssl req -x509 "${ec[@]}" -keyout other-ca-key.pem -out other-ca.pem -days 2 -subj "/CN=unrelated test CA" "${ca_ext[@]}" 2>/dev/null
openssl req "${ec[@]}" -keyout server-key.pem -out server.csr -subj "/CN=localhost" 2>/dev/null
printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=CA:FALSE" \
  "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -out server.pem -days 2 \
  -extfile server.ext 2>/dev/null
cp ca.pem ca-dir/ca.pem
openssl rehash ca-dir >/dev/null 2>&1 || c_rehash ca-dir >/dev/null
rm -f server.csr server.ext ca.srl
chmod 600 ./*-key.pem
