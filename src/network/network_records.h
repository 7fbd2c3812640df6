// network_records.h — internal to the network modules: the records of bridge networks in the
// store (store.h: networks/<name>.json; …/endpoints/<cid>.json), read and written as JSON.
// Leases are ipam.h's.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "minirun/network/network.h"

namespace minirun::network {

// mkdir -p with mode 0700.
void make_dirs(const std::string& p);
// An endpoint record put into place by rename (not fsynced: see network_records.cpp).
void write_record(const std::string& path, const std::string& data);
nlohmann::json record_json(const NetworkRecord& r);
// networks/<name>.json; nullopt when there is none; Error when it is damaged.
std::optional<NetworkRecord> read_record(const Store& store, const std::string& name);
nlohmann::json attachment_json(const Attachment& a);
// An endpoint record; nullopt when it is missing or unreadable (recover() releases its lease).
std::optional<Attachment> read_endpoint(const std::string& path);
std::string endpoint_path(const Store& store, const std::string& network, const std::string& cid);
// Docker's rule for network names; throws Error naming it.
void check_name(const std::string& name);

}  // namespace minirun::network
