#!/usr/bin/env python3
"""List the services of an Agora cluster through the gRPC Jobs API (agora.v1.Jobs/List).

Generate the message classes once, from the repository root (protoc >= 3.15; proto/CLIENTS.md):

    protoc -I proto --python_out=examples/clients/python/gen proto/agora/v1/*.proto

then, against `agora up` (which made .agora/tls/ca.pem and .agora/admin-token):

    PYTHONPATH=examples/clients/python/gen python3 examples/clients/python/list_services.py \\
        --master 127.0.0.1:5051 --ca .agora/tls/ca.pem --token-file .agora/admin-token

Only grpcio and protobuf are needed: the call goes through grpc's generic unary_unary with the
generated messages, so no gRPC code generator (grpc_python_plugin, grpcio-tools) is required.
"""
import argparse
import os
import sys

import grpc
from agora.v1 import jobs_pb2, workload_pb2

LIST = "/agora.v1.Jobs/List"


def channel(args):
    if args.insecure:
        return grpc.insecure_channel(args.master)
    with open(args.ca, "rb") as f:
        ca = f.read()
    # TLS checked against the cluster CA; the master's certificate names its hostname and IP.
    return grpc.secure_channel(args.master, grpc.ssl_channel_credentials(root_certificates=ca))


def token(args):
    if args.token:
        return args.token
    if args.token_file:
        with open(args.token_file, encoding="utf-8") as f:
            return f.read().strip()
    return None


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--master", default=os.environ.get("AGORA_GRPC", "127.0.0.1:5051"), help="host:port of the master's gRPC port (agora up) or of agora frameworks (5061)")
    p.add_argument("--ca", default=os.environ.get("AGORA_CA", ".agora/tls/ca.pem"), help="the cluster CA certificate (PEM)")
    p.add_argument("--token", default=os.environ.get("AGORA_TOKEN"), help="a bearer token (default: read --token-file)")
    p.add_argument("--token-file", default=os.environ.get("AGORA_TOKEN_FILE", ".agora/admin-token"))
    p.add_argument("--insecure", action="store_true", help="plaintext, no token (a cluster started with --insecure)")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the answer")
    args = p.parse_args()

    metadata = []
    bearer = None if args.insecure else token(args)
    if bearer:
        metadata.append(("authorization", f"Bearer {bearer}"))
    with channel(args) as ch:
        list_workloads = ch.unary_unary(LIST, request_serializer=jobs_pb2.ListRequest.SerializeToString, response_deserializer=jobs_pb2.ListResponse.FromString)
        try:
            answer = list_workloads(jobs_pb2.ListRequest(kinds=[workload_pb2.SERVICE]), metadata=metadata, timeout=args.timeout)
        except grpc.RpcError as err:
            print(f"error: {err.code().name}: {err.details()}", file=sys.stderr)
            return 1
    print(f"{'NAME':<24}{'VERSION':<10}{'DESIRED':>8}{'RUNNING':>8}  PENDING")
    for w in answer.items:
        s = w.service_status
        print(f"{w.name:<24}{w.version:<10}{s.instances:>8}{s.running:>8}  {s.pending_reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
