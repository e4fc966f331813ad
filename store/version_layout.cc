#include "store/version_layout.h"

#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace recall {
namespace layout {

std::string SpaceIndex(absl::string_view space, absl::string_view extension) {
  return absl::StrCat("spaces/", space, ".", extension);
}
std::string TableIds(absl::string_view table) {
  return absl::StrCat("tables/", table, ".ids");
}
std::string TableIndex(absl::string_view table) {
  return absl::StrCat("tables/", table, ".faiss");
}
std::string ClusterTable(absl::string_view clustering) {
  return absl::StrCat("clusters/", clustering, ".pb");
}
std::string ClusterCentres(absl::string_view clustering) {
  return absl::StrCat("clusters/", clustering, ".faiss");
}
std::string Lists(absl::string_view name) {
  return absl::StrCat("lists/", name, ".rl");
}

std::string Neighbours(absl::string_view space) {
  return absl::StrCat("lists/", space, ".neighbours.rl");
}

absl::Status CreateDirs(const std::string& version_dir) {
  for (const char* sub : {"spaces", "tables", "clusters", "lists"}) {
    std::error_code error;
    std::filesystem::create_directories(
        std::filesystem::path(version_dir) / sub, error);
    if (error) {
      return absl::InternalError(absl::StrCat(
          version_dir, "/", sub, ": cannot create: ", error.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace layout

absl::Status WriteIdList(const std::string& path,
                         const std::vector<std::string>& ids) {
  std::ofstream out(path, std::ios::trunc);
  for (const std::string& id : ids) out << id << "\n";
  out.close();
  if (!out) return absl::InternalError(absl::StrCat(path, ": write failed"));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ReadIdList(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::vector<std::string> ids;
  for (std::string line; std::getline(in, line);) ids.push_back(line);
  return ids;
}

absl::Status WriteClusterTable(const std::string& path,
                               const v1::ClusterTable& table) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!table.SerializeToOstream(&out)) {
    return absl::InternalError(absl::StrCat(path, ": write failed"));
  }
  out.close();
  if (!out) return absl::InternalError(absl::StrCat(path, ": write failed"));
  return absl::OkStatus();
}

absl::StatusOr<v1::ClusterTable> ReadClusterTable(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  v1::ClusterTable table;
  if (!table.ParseFromIstream(&in)) {
    return absl::DataLossError(absl::StrCat(path, ": not a ClusterTable"));
  }
  return table;
}

}  // namespace recall
