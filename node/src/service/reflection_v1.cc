// Server reflection v1 (see reflection_v1.h).
#include "service/reflection_v1.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>

#include <set>

namespace cairn::node {
namespace {

namespace rpb = grpc::reflection::v1;
using google::protobuf::DescriptorPool;
using google::protobuf::FieldDescriptor;
using google::protobuf::FileDescriptor;

// `file` and every file it depends on, each once per answer.
void AddFileAndDependencies(const FileDescriptor* file, std::set<std::string>* added,
                            rpb::FileDescriptorResponse* out) {
  if (!added->insert(file->name()).second) return;
  google::protobuf::FileDescriptorProto proto;
  file->CopyTo(&proto);
  out->add_file_descriptor_proto(proto.SerializeAsString());
  for (int i = 0; i < file->dependency_count(); ++i) {
    AddFileAndDependencies(file->dependency(i), added, out);
  }
}

void NotFound(rpb::ServerReflectionResponse* response, const std::string& what) {
  response->mutable_error_response()->set_error_code(
      static_cast<int32_t>(grpc::StatusCode::NOT_FOUND));
  response->mutable_error_response()->set_error_message(what + " not found.");
}

void Answer(const rpb::ServerReflectionRequest& request, const std::vector<std::string>& services,
            rpb::ServerReflectionResponse* response) {
  const DescriptorPool* pool = DescriptorPool::generated_pool();
  std::set<std::string> added;
  switch (request.message_request_case()) {
    case rpb::ServerReflectionRequest::kFileByFilename: {
      const FileDescriptor* file = pool->FindFileByName(request.file_by_filename());
      if (file == nullptr) return NotFound(response, "File");
      return AddFileAndDependencies(file, &added, response->mutable_file_descriptor_response());
    }
    case rpb::ServerReflectionRequest::kFileContainingSymbol: {
      const FileDescriptor* file = pool->FindFileContainingSymbol(request.file_containing_symbol());
      if (file == nullptr) return NotFound(response, "Symbol");
      return AddFileAndDependencies(file, &added, response->mutable_file_descriptor_response());
    }
    case rpb::ServerReflectionRequest::kFileContainingExtension: {
      const auto* type =
          pool->FindMessageTypeByName(request.file_containing_extension().containing_type());
      const FieldDescriptor* extension =
          type == nullptr ? nullptr
                          : pool->FindExtensionByNumber(
                                type, request.file_containing_extension().extension_number());
      if (extension == nullptr) return NotFound(response, "Extension");
      return AddFileAndDependencies(extension->file(), &added,
                                    response->mutable_file_descriptor_response());
    }
    case rpb::ServerReflectionRequest::kAllExtensionNumbersOfType: {
      const auto* type = pool->FindMessageTypeByName(request.all_extension_numbers_of_type());
      if (type == nullptr) return NotFound(response, "Type");
      std::vector<const FieldDescriptor*> extensions;
      pool->FindAllExtensions(type, &extensions);
      auto* numbers = response->mutable_all_extension_numbers_response();
      numbers->set_base_type_name(type->full_name());
      for (const FieldDescriptor* e : extensions) numbers->add_extension_number(e->number());
      return;
    }
    case rpb::ServerReflectionRequest::kListServices:
      for (const std::string& name : services) {
        response->mutable_list_services_response()->add_service()->set_name(name);
      }
      return;
    default:
      response->mutable_error_response()->set_error_code(
          static_cast<int32_t>(grpc::StatusCode::UNIMPLEMENTED));
      response->mutable_error_response()->set_error_message("request not implemented");
  }
}

}  // namespace

grpc::Status ReflectionV1Service::ServerReflectionInfo(
    grpc::ServerContext* /*context*/,
    grpc::ServerReaderWriter<rpb::ServerReflectionResponse, rpb::ServerReflectionRequest>* stream) {
  rpb::ServerReflectionRequest request;
  while (stream->Read(&request)) {
    rpb::ServerReflectionResponse response;
    response.set_valid_host(request.host());
    *response.mutable_original_request() = request;
    Answer(request, services_, &response);
    if (!stream->Write(response)) break;
  }
  return grpc::Status::OK;
}

}  // namespace cairn::node
