# Build the manager binary.
# Built where a container engine runs; on machines without one,
# hack/images.sh builds the same image from Debian packages (see README).
FROM golang:1.26 AS builder
ARG TARGETOS
ARG TARGETARCH
# The build's version (make docker-build passes VERSION): the manager's
# default agent image is supportstack/agent:<VERSION>.
ARG VERSION=dev

WORKDIR /workspace
# Cache dependencies before copying the source.
COPY go.mod go.mod
COPY go.sum go.sum
RUN go mod download

COPY cmd/ cmd/
COPY api/ api/
COPY internal/ internal/

# CGO off: a static binary for the distroless static image.
RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} go build -trimpath -a -ldflags "-X main.version=${VERSION}" -o manager ./cmd

# Distroless static, non-root: nothing but the binary and CA certificates.
FROM gcr.io/distroless/static:nonroot
WORKDIR /
COPY --from=builder /workspace/manager .
USER 65532:65532

ENTRYPOINT ["/manager"]
