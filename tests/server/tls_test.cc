// TLS and mutual TLS on the recall port, with certificates made by openssl
// in the test.
#include <cstdlib>
#include <fstream>

#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/recall/v1/recall.grpc.pb.h"
#include "recall/channel.h"
#include "server/server.h"
#include "tests/server_test_util.h"
#include "tests/small_snapshot.h"
#include "tests/test_util.h"

namespace recall {
namespace {

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RegisterBuiltinChannels();
    const std::string d = tmp_.dir();
    std::ofstream(tmp_.Path("san.ext")) << "subjectAltName=DNS:localhost\n";
    const std::string script = "cd " + d +
                               " && openssl req -x509 -newkey rsa:2048 -nodes "
                               "-keyout ca.key -out ca.pem -days 1 "
                               "-subj /CN=test-ca"
                               " && openssl req -newkey rsa:2048 -nodes "
                               "-keyout server.key -out server.csr "
                               "-subj /CN=localhost"
                               " && openssl x509 -req -in server.csr -CA "
                               "ca.pem -CAkey ca.key -CAcreateserial "
                               "-out server.pem -days 1 -extfile san.ext"
                               " && openssl req -newkey rsa:2048 -nodes "
                               "-keyout client.key -out client.csr "
                               "-subj /CN=client"
                               " && openssl x509 -req -in client.csr -CA "
                               "ca.pem -CAkey ca.key -CAcreateserial "
                               "-out client.pem -days 1) > openssl.log 2>&1";
    ASSERT_EQ(std::system(("(" + script).c_str()), 0)
        << ReadFile(tmp_.Path("openssl.log"));
    ASSERT_TRUE(MakeSmallSnapshot(tmp_.dir(), 300, 20, 8).ok());
  }

  std::unique_ptr<RecallServer> Start(bool mutual) {
    ServerOptions options = LoopbackServerOptions(tmp_.Path("root"));
    options.tls_cert_file = tmp_.Path("server.pem");
    options.tls_key_file = tmp_.Path("server.key");
    if (mutual) options.tls_client_ca_file = tmp_.Path("ca.pem");
    auto server = RecallServer::Start(options);
    EXPECT_TRUE(server.ok()) << server.status();
    return std::move(server).value();
  }

  // One Recall over TLS, optionally presenting the client certificate.
  grpc::Status Call(const RecallServer& server, bool client_cert) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ReadFile(tmp_.Path("ca.pem"));
    if (client_cert) {
      ssl.pem_private_key = ReadFile(tmp_.Path("client.key"));
      ssl.pem_cert_chain = ReadFile(tmp_.Path("client.pem"));
    }
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    auto channel =
        grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(server.port()),
                                  grpc::SslCredentials(ssl), args);
    v1::RecallResponse response;
    return CallRecall(channel, "u0000001", 5, &response);
  }

  ScopedTempDir tmp_{"tls_test"};
};

TEST_F(TlsTest, TlsHandshakeAndRecall) {
  auto server = Start(/*mutual=*/false);
  EXPECT_TRUE(Call(*server, /*client_cert=*/false).ok());
  // A plaintext client cannot talk to a TLS port.
  v1::RecallResponse response;
  EXPECT_FALSE(CallRecall(grpc::CreateChannel(
                              "127.0.0.1:" + std::to_string(server->port()),
                              grpc::InsecureChannelCredentials()),
                          "u0000001", 5, &response, /*deadline_s=*/2)
                   .ok());
  server->Shutdown(absl::Seconds(1));
}

TEST_F(TlsTest, MutualTlsRequiresAClientCertificate) {
  auto server = Start(/*mutual=*/true);
  EXPECT_TRUE(Call(*server, /*client_cert=*/true).ok());
  EXPECT_FALSE(Call(*server, /*client_cert=*/false).ok());
  server->Shutdown(absl::Seconds(1));
}

// Issue 11.9: a key that is not the certificate's said only "cannot listen".
TEST_F(TlsTest, AKeyThatDoesNotMatchTheCertificateIsNamed) {
  ServerOptions options = LoopbackServerOptions(tmp_.Path("root"));
  options.tls_cert_file = tmp_.Path("server.pem");
  options.tls_key_file = tmp_.Path("client.key");  // another key
  auto server = RecallServer::Start(options);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(server.status().message()),
              ::testing::HasSubstr("tls_key " + tmp_.Path("client.key") +
                                   " does not match tls_cert"));
  options.tls_key_file = tmp_.Path("san.ext");  // not a key at all
  server = RecallServer::Start(options);
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(std::string(server.status().message()),
              ::testing::HasSubstr("no PEM private key"));
}

TEST(TlsOptionsTest, HalfAConfigurationIsRefused) {
  ServerOptions options = LoopbackServerOptions("/nonexistent");
  options.tls_cert_file = "/nonexistent/cert.pem";
  auto server = RecallServer::Start(options);
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace recall
