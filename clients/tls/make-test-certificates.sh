#!/usr/bin/env bash
# Makes a throwaway CA, a server certificate it signs for localhost and
# 127.0.0.1, and a client certificate for a workload named by the SPIFFE ID
# spiffe://example.org/ns/orders/sa/worker (all EC P-256), for trying tokend
# over TLS and mutual TLS; real deployments use their own CA, cert-manager,
# ACME or their mesh's SVIDs. Writes ca.pem, server.pem, server.key,
# workload.pem and workload.key.
#   clients/tls/make-test-certificates.sh DIR
set -euo pipefail
dir="${1:?directory to write the certificates to}"
mkdir -p "$dir"
cd "$dir"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj "/CN=tokend trial CA" -keyout ca.key -out ca.pem 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -subj "/CN=localhost" -keyout server.key -out server.csr 2>/dev/null
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
  -extfile <(printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth') \
  -out server.pem 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -subj "/O=example/CN=orders-worker" -keyout workload.key -out workload.csr 2>/dev/null
openssl x509 -req -in workload.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
  -extfile <(printf 'subjectAltName=URI:spiffe://example.org/ns/orders/sa/worker\nextendedKeyUsage=clientAuth') \
  -out workload.pem 2>/dev/null
rm -f server.csr workload.csr ca.srl
