// The client library's decoding: API objects, problem+json errors, and query encoding (no server needed).
import Foundation
import HTTP
import XCTest
@testable import Client

final class APIModelsTests: XCTestCase {
    func testMessageRoundTripKeepsNullClientID() throws {
        let json = #"{"id":"m1","room":"general","seq":42,"user":"alice","text":"hi / there","created_at":"2026-11-25T12:00:00.123Z","client_id":null,"files":[]}"#
        let message = try JSONDecoder().decode(APIMessage.self, from: Data(json.utf8))
        XCTAssertEqual(message.seq, 42)
        XCTAssertNil(message.clientID)
        XCTAssertEqual(message.jsonLine, json, "printed exactly as the API sent it")
        let again = try JSONSerialization.jsonObject(with: Data(message.jsonLine.utf8)) as? [String: Any]
        XCTAssertEqual(again?["seq"] as? Int, 42)
        XCTAssertTrue(again?["client_id"] is NSNull, "client_id must be printed as null, as the API sends it")
        let withID = APIMessage(id: "m2", room: "r", seq: 1, user: "bob", text: "say \"hi\"\n", createdAt: "t", clientID: "k-1")
        let decoded = try JSONDecoder().decode(APIMessage.self, from: Data(withID.jsonLine.utf8))
        XCTAssertEqual(decoded, withID)
        XCTAssertEqual(message.date?.timeIntervalSince1970 ?? 0, 1_795_608_000.123, accuracy: 0.001)
    }

    /// Issue 15: files come and go in the API's order; a message from an older server (no `files`) has none.
    func testMessageFiles() throws {
        let file = #"{"id":"f1","name":"cat.png","type":"image/png","size":48213,"sha256":"ab","width":640,"height":480,"created_at":"t"}"#
        let plain = #"{"id":"f2","name":"x","type":"application/octet-stream","size":0,"sha256":"cd","width":null,"height":null,"created_at":"t"}"#
        let json = #"{"id":"m1","room":"general","seq":1,"user":"a","text":"","created_at":"t","client_id":null,"files":["# + file + "," + plain + "]}"
        let message = try JSONDecoder().decode(APIMessage.self, from: Data(json.utf8))
        XCTAssertEqual(message.files.map(\.name), ["cat.png", "x"])
        XCTAssertEqual(message.files[0].width, 640)
        XCTAssertNil(message.files[1].height)
        XCTAssertEqual(message.jsonLine, json)
        let old = #"{"id":"m1","room":"general","seq":1,"user":"a","text":"x","created_at":"t","client_id":null}"#
        XCTAssertEqual(try JSONDecoder().decode(APIMessage.self, from: Data(old.utf8)).files, [])
        XCTAssertEqual(KonnectClient.dispositionName("inline; filename=\"c_t.png\"; filename*=UTF-8''c%C3%A4t.png"), "cät.png")
        XCTAssertEqual(KonnectClient.dispositionName("attachment; filename=\"a b.txt\""), "a b.txt")
        XCTAssertNil(KonnectClient.dispositionName("attachment"))
    }

    func testPageDecodes() throws {
        let json = #"{"room":"ops","messages":[],"has_more":true,"last_seq":57}"#
        let page = try JSONDecoder().decode(APIPage.self, from: Data(json.utf8))
        XCTAssertEqual(page.lastSeq, 57)
        XCTAssertTrue(page.hasMore)
    }

    func testProblemBodyBecomesTypedError() {
        let body = #"{"type":"about:blank","title":"Too Many Requests","status":429,"detail":"slow down","code":"too_many_attempts"}"#
        let response = HTTPResponse(status: 429, headers: HTTPHeaders([("Content-Type", "application/problem+json"), ("Retry-After", "900")]),
                                    body: Array(body.utf8))
        let problem = KonnectClient.problem(from: response)
        XCTAssertEqual(problem.status, 429)
        XCTAssertEqual(problem.code, "too_many_attempts")
        XCTAssertEqual(problem.detail, "slow down")
        XCTAssertEqual(problem.retryAfter, 900)
        XCTAssertFalse(ClientError.problem(problem).isTransient)
    }

    func testNonProblemErrorStillHasStatusAndCode() {
        let problem = KonnectClient.problem(from: HTTPResponse(status: 503, contentType: "text/html", body: "<h1>down</h1>"))
        XCTAssertEqual(problem.status, 503)
        XCTAssertEqual(problem.code, "http_503")
        XCTAssertTrue(ClientError.problem(problem).isTransient)
        XCTAssertTrue(ClientError.network("refused").isTransient)
    }

    func testQueryValuesArePercentEncoded() {
        XCTAssertEqual(KonnectClient.queryString([("room", "a b&c"), ("after", "3")]), "?room=a%20b%26c&after=3")
        XCTAssertEqual(KonnectClient.queryString([]), "")
    }

    func testServerURLMustBeHTTP() {
        XCTAssertThrowsError(try KonnectClient(server: "ftp://example")) { error in
            guard case ClientError.invalidServerURL = error else { return XCTFail("got \(error)") }
        }
    }
}
