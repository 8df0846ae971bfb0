//! Resource groups and the hierarchy (`/api/v1/resource-groups`, original §2.19): every
//! operation and every error message, cycles refused (also under two racing re-parentings),
//! delete with and without `cascade`, admin-only writes, and following a group on `/ws` (the
//! `?group=` parameter and the `subscribe` message's `groups`, which follow the hierarchy as it
//! changes).

use serde_json::{Value, json};

use crate::both_backends;
use crate::support::TestApp;
use crate::support::auth::TestUser;
use crate::support::booking::at;

const BASE: &str = "/api/v1/resource-groups";

async fn group(app: &TestApp, admin: &TestUser, body: Value) -> i64 {
    let response = app.post_json_as(admin, BASE, &body).await;
    assert_eq!(response.status(), 201, "{body}");
    response.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn detail(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    response.json::<Value>().await.unwrap()["detail"].clone()
}

async fn ok_json(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|item| item["name"].as_str().unwrap().to_owned())
        .collect()
}

both_backends! {
    async fn groups_are_created_listed_and_read_by_users_written_by_admins(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let response = app.post_json_as(&admin, &format!("{BASE}/"), &json!({
            "name": "HQ", "description": "Main site", "building": "HQ", "floor": null
        })).await;
        assert_eq!(response.status(), 201, "the slash form works too");
        let hq: Value = response.json().await.unwrap();
        for key in ["id", "name", "description", "parent_id", "building", "floor", "room", "created_at", "updated_at"] {
            assert!(hq.get(key).is_some(), "GroupOut has {key}: {hq}");
        }
        assert_eq!(hq["building"], "HQ");
        assert_eq!(hq["parent_id"], Value::Null);
        let hq = hq["id"].as_i64().unwrap();
        let floor = group(&app, &admin, json!({"name": "Floor 3", "parent_id": hq, "building": "HQ", "floor": "3"})).await;
        group(&app, &admin, json!({"name": "Annex", "building": "Annex"})).await;
        group(&app, &admin, json!({"name": "Room 301", "parent_id": floor, "room": "301"})).await;

        assert_eq!(detail(app.post_json_as(&admin, BASE, &json!({"name": "X", "parent_id": 9999})).await, 404).await, "Parent group not found");
        assert_eq!(detail(app.post_json_as(&bob, BASE, &json!({"name": "Mine"})).await, 403).await, "Role required: admin");
        let anonymous = app.client.post(app.url(BASE)).json(&json!({"name": "X"})).send().await.unwrap();
        assert_eq!(anonymous.status(), 401);
        for bad in [json!({"name": ""}), json!({"name": "x".repeat(201)}), json!({"name": "A", "description": "d".repeat(501)}),
                    json!({"name": "A", "building": "b".repeat(201)}), json!({"name": "A", "floor": "f".repeat(51)}),
                    json!({"name": "A", "room": "r".repeat(101)}), json!({})] {
            assert_eq!(app.post_json_as(&admin, BASE, &bad).await.status(), 422, "{bad}");
        }

        // Roots only by default, by name; children of a parent; everything; by building.
        assert_eq!(names(&ok_json(app.get_as(&bob, BASE).await).await), ["Annex", "HQ"]);
        assert_eq!(names(&ok_json(app.get_as(&bob, &format!("{BASE}/")).await).await), ["Annex", "HQ"]);
        assert_eq!(names(&ok_json(app.get_as(&bob, &format!("{BASE}?parent_id={hq}")).await).await), ["Floor 3"]);
        assert_eq!(names(&ok_json(app.get_as(&bob, &format!("{BASE}?include_children=true")).await).await), ["Annex", "Floor 3", "HQ", "Room 301"]);
        assert_eq!(names(&ok_json(app.get_as(&bob, &format!("{BASE}?include_children=true&building=HQ")).await).await), ["Floor 3", "HQ"]);
        assert_eq!(app.get(BASE).await.status(), 401, "reads need a user");

        assert_eq!(ok_json(app.get_as(&bob, &format!("{BASE}/buildings")).await).await, json!({"buildings": ["Annex", "HQ"]}));

        let one = ok_json(app.get_as(&bob, &format!("{BASE}/{hq}")).await).await;
        assert_eq!(one["name"], "HQ");
        assert_eq!(one["resource_count"], 0);
        assert_eq!(one["children"].as_array().unwrap().len(), 1);
        assert_eq!(one["children"][0]["name"], "Floor 3");
        assert_eq!(one["children"][0]["children"], json!([]), "one level only");
        assert_eq!(detail(app.get_as(&bob, &format!("{BASE}/9999")).await, 404).await, "Resource group not found");
        assert_eq!(app.get_as(&bob, &format!("{BASE}/abc")).await.status(), 422);
    }

    async fn the_tree_counts_resources_and_resources_move_between_groups(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let hq = group(&app, &admin, json!({"name": "HQ", "building": "HQ"})).await;
        let floor = group(&app, &admin, json!({"name": "Floor 1", "parent_id": hq})).await;
        let (desk, lab, loose) = (app.resource(&admin, "Desk").await, app.resource(&admin, "Lab").await, app.resource(&admin, "Loose").await);

        let assigned = ok_json(app.post_json_as(&admin, &format!("{BASE}/{floor}/resources"), &json!({"resource_id": desk, "group_id": 12345})).await).await;
        assert_eq!(assigned["message"], "Resource 'Desk' assigned to group 'Floor 1'", "the body's group_id is ignored");
        ok_json(app.post_json_as(&admin, &format!("{BASE}/{hq}/resources"), &json!({"resource_id": lab})).await).await;
        assert_eq!(detail(app.post_json_as(&admin, &format!("{BASE}/9999/resources"), &json!({"resource_id": lab})).await, 404).await, "Resource group not found");
        assert_eq!(detail(app.post_json_as(&admin, &format!("{BASE}/{hq}/resources"), &json!({"resource_id": 9999})).await, 404).await, "Resource not found");
        assert_eq!(detail(app.post_json_as(&bob, &format!("{BASE}/{hq}/resources"), &json!({"resource_id": loose})).await, 403).await, "Role required: admin");

        let tree = ok_json(app.get_as(&bob, &format!("{BASE}/tree")).await).await;
        assert_eq!(tree["total_groups"], 2);
        assert_eq!(tree["total_resources"], 2);
        assert_eq!(tree["groups"][0]["name"], "HQ");
        assert_eq!(tree["groups"][0]["resource_count"], 1);
        assert_eq!(tree["groups"][0]["children"][0]["name"], "Floor 1");
        assert_eq!(tree["groups"][0]["children"][0]["resource_count"], 1);
        assert_eq!(tree["groups"][0]["children"][0]["children"], json!([]));

        let direct = ok_json(app.get_as(&bob, &format!("{BASE}/{hq}/resources")).await).await;
        assert_eq!(names(&direct), ["Lab"]);
        let row = &direct[0];
        assert_eq!(row, &json!({"id": lab, "name": "Lab", "available": true, "status": "available", "tags": [], "group_id": hq, "parent_id": null}));
        assert_eq!(names(&ok_json(app.get_as(&bob, &format!("{BASE}/{hq}/resources?include_children=true")).await).await), ["Desk", "Lab"]);
        assert_eq!(detail(app.get_as(&bob, &format!("{BASE}/9999/resources")).await, 404).await, "Resource group not found");
        assert_eq!(names(&ok_json(app.get_as(&bob, &format!("{BASE}/ungrouped")).await).await), ["Loose"]);

        let removed = ok_json(app.delete_as(&admin, &format!("{BASE}/{hq}/resources/{lab}")).await).await;
        assert_eq!(removed["message"], "Resource 'Lab' removed from group");
        assert_eq!(detail(app.delete_as(&admin, &format!("{BASE}/{hq}/resources/{lab}")).await, 404).await, "Resource not found in this group");
        assert_eq!(detail(app.delete_as(&admin, &format!("{BASE}/{hq}/resources/{desk}")).await, 404).await, "Resource not found in this group", "in a subgroup is not in this group");
        assert_eq!(detail(app.delete_as(&bob, &format!("{BASE}/{floor}/resources/{desk}")).await, 403).await, "Role required: admin");
        assert_eq!(names(&ok_json(app.get_as(&bob, &format!("{BASE}/ungrouped")).await).await), ["Lab", "Loose"]);
    }

    async fn patch_applies_present_fields_and_refuses_cycles(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let a = group(&app, &admin, json!({"name": "A", "building": "Old", "floor": "1"})).await;
        let b = group(&app, &admin, json!({"name": "B", "parent_id": a})).await;
        let c = group(&app, &admin, json!({"name": "C", "parent_id": b})).await;

        let changed = ok_json(app.patch_json_as(&admin, &format!("{BASE}/{a}"), &json!({"building": "New", "floor": null})).await).await;
        assert_eq!(changed["name"], "A", "absent fields stay");
        assert_eq!(changed["building"], "New");
        assert_eq!(changed["floor"], Value::Null, "an explicit null clears");
        assert!(changed["updated_at"].is_string());

        let path = format!("{BASE}/{a}");
        assert_eq!(detail(app.patch_json_as(&admin, &path, &json!({"parent_id": a})).await, 400).await, "Group cannot be its own parent");
        assert_eq!(detail(app.patch_json_as(&admin, &path, &json!({"parent_id": c})).await, 400).await, "Circular parent reference detected");
        assert_eq!(detail(app.patch_json_as(&admin, &path, &json!({"parent_id": b})).await, 400).await, "Circular parent reference detected");
        assert_eq!(detail(app.patch_json_as(&admin, &path, &json!({"parent_id": 9999})).await, 404).await, "Parent group not found");
        assert_eq!(detail(app.patch_json_as(&admin, &format!("{BASE}/9999"), &json!({"name": "Z"})).await, 404).await, "Resource group not found");
        assert_eq!(detail(app.patch_json_as(&bob, &path, &json!({"name": "Z"})).await, 403).await, "Role required: admin");
        assert_eq!(app.patch_json_as(&admin, &path, &json!({"name": ""})).await.status(), 422);
        assert_eq!(app.patch_json_as(&admin, &path, &json!({"name": null})).await.status(), 422);

        // Moving C up to the root, then under A again, is fine.
        let moved = ok_json(app.patch_json_as(&admin, &format!("{BASE}/{c}"), &json!({"parent_id": null})).await).await;
        assert_eq!(moved["parent_id"], Value::Null);
        let moved = ok_json(app.patch_json_as(&admin, &format!("{BASE}/{c}"), &json!({"parent_id": a})).await).await;
        assert_eq!(moved["parent_id"], a);
    }

    async fn delete_needs_cascade_for_subgroups_and_ungroups_resources(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let top = group(&app, &admin, json!({"name": "Top"})).await;
        let mid = group(&app, &admin, json!({"name": "Mid", "parent_id": top})).await;
        group(&app, &admin, json!({"name": "Mid 2", "parent_id": top})).await;
        let low = group(&app, &admin, json!({"name": "Low", "parent_id": mid})).await;
        let desk = app.resource(&admin, "Desk").await;
        ok_json(app.post_json_as(&admin, &format!("{BASE}/{low}/resources"), &json!({"resource_id": desk})).await).await;

        assert_eq!(detail(app.delete_as(&admin, &format!("{BASE}/{top}")).await, 400).await, "Group has 2 child group(s). Use cascade=true to delete.");
        assert_eq!(detail(app.delete_as(&admin, &format!("{BASE}/{top}?cascade=false")).await, 400).await, "Group has 2 child group(s). Use cascade=true to delete.");
        assert_eq!(detail(app.delete_as(&bob, &format!("{BASE}/{top}?cascade=true")).await, 403).await, "Role required: admin");
        assert_eq!(detail(app.delete_as(&admin, &format!("{BASE}/9999")).await, 404).await, "Resource group not found");

        // A leaf goes without cascade; its resources stay, ungrouped.
        let extra = group(&app, &admin, json!({"name": "Leaf", "parent_id": top})).await;
        let lamp = app.resource(&admin, "Lamp").await;
        ok_json(app.post_json_as(&admin, &format!("{BASE}/{extra}/resources"), &json!({"resource_id": lamp})).await).await;
        assert_eq!(app.delete_as(&admin, &format!("{BASE}/{extra}")).await.status(), 204);
        assert_eq!(names(&ok_json(app.get_as(&bob, &format!("{BASE}/ungrouped")).await).await), ["Lamp"]);

        assert_eq!(app.delete_as(&admin, &format!("{BASE}/{top}?cascade=true")).await.status(), 204);
        let everything = ok_json(app.get_as(&bob, &format!("{BASE}?include_children=true")).await).await;
        assert_eq!(everything, json!([]), "the whole subtree went");
        assert_eq!(names(&ok_json(app.get_as(&bob, &format!("{BASE}/ungrouped")).await).await), ["Desk", "Lamp"], "resources are never deleted with groups");
        assert_eq!(app.get_as(&bob, &format!("/api/v1/resources/{desk}")).await.status(), 200);
    }

    async fn resource_parents_and_children(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let (room, desk, lamp) = (app.resource(&admin, "Room").await, app.resource(&admin, "Desk").await, app.resource(&admin, "Lamp").await);
        let set = |resource: i64, parent: Value| json!({"resource_id": resource, "parent_id": parent});
        let path = format!("{BASE}/resources/set-parent");

        assert_eq!(ok_json(app.post_json_as(&admin, &path, &set(desk, json!(room))).await).await["message"], "Resource 'Desk' parent set to 'Room'");
        assert_eq!(ok_json(app.post_json_as(&admin, &path, &set(lamp, json!(desk))).await).await["message"], "Resource 'Lamp' parent set to 'Desk'");
        assert_eq!(detail(app.post_json_as(&admin, &path, &set(room, json!(lamp))).await, 400).await, "Circular parent reference detected");
        assert_eq!(detail(app.post_json_as(&admin, &path, &set(room, json!(desk))).await, 400).await, "Circular parent reference detected");
        assert_eq!(detail(app.post_json_as(&admin, &path, &set(room, json!(room))).await, 400).await, "Resource cannot be its own parent");
        assert_eq!(detail(app.post_json_as(&admin, &path, &set(9999, json!(room))).await, 404).await, "Resource not found");
        assert_eq!(detail(app.post_json_as(&admin, &path, &set(room, json!(9999))).await, 404).await, "Parent resource not found");
        assert_eq!(detail(app.post_json_as(&bob, &path, &set(room, json!(null))).await, 403).await, "Role required: admin");

        let children = ok_json(app.get_as(&bob, &format!("{BASE}/resources/{room}/children")).await).await;
        assert_eq!(names(&children), ["Desk"]);
        assert_eq!(children[0]["parent_id"], room);
        assert_eq!(detail(app.get_as(&bob, &format!("{BASE}/resources/9999/children")).await, 404).await, "Resource not found");

        assert_eq!(ok_json(app.post_json_as(&admin, &path, &json!({"resource_id": lamp})).await).await["message"], "Resource 'Lamp' parent removed");
        assert_eq!(ok_json(app.post_json_as(&admin, &path, &set(desk, json!(null))).await).await["message"], "Resource 'Desk' parent removed");
        assert_eq!(ok_json(app.get_as(&bob, &format!("{BASE}/resources/{room}/children")).await).await, json!([]));
        // Now the old cycle is allowed the other way round.
        assert_eq!(app.post_json_as(&admin, &path, &set(room, json!(lamp))).await.status(), 200);
    }

    async fn two_racing_reparentings_never_make_a_cycle(app: TestApp) {
        let admin = app.admin().await;
        for round in 0..20 {
            // Two groups, two resources: each client tries to put one under the other.
            let a = group(&app, &admin, json!({"name": format!("A{round}")})).await;
            let b = group(&app, &admin, json!({"name": format!("B{round}")})).await;
            let (path_a, path_b) = (format!("{BASE}/{a}"), format!("{BASE}/{b}"));
            let (under_b, under_a) = (json!({"parent_id": b}), json!({"parent_id": a}));
            let (first, second) = futures::join!(
                app.patch_json_as(&admin, &path_a, &under_b),
                app.patch_json_as(&admin, &path_b, &under_a),
            );
            let mut statuses = [first.status().as_u16(), second.status().as_u16()];
            statuses.sort();
            assert_eq!(statuses, [200, 400], "round {round}: exactly one re-parenting wins");
            let parent_of = |id: i64| {
                let app = &app;
                let admin = &admin;
                async move { ok_json(app.get_as(admin, &format!("{BASE}/{id}")).await).await["parent_id"].clone() }
            };
            let (pa, pb) = (parent_of(a).await, parent_of(b).await);
            assert!(pa.is_null() || pb.is_null(), "round {round}: a cycle {pa} {pb}");

            let (x, y) = (app.resource(&admin, &format!("X{round}")).await, app.resource(&admin, &format!("Y{round}")).await);
            let path = format!("{BASE}/resources/set-parent");
            let (x_under_y, y_under_x) = (json!({"resource_id": x, "parent_id": y}), json!({"resource_id": y, "parent_id": x}));
            let (first, second) = futures::join!(
                app.post_json_as(&admin, &path, &x_under_y),
                app.post_json_as(&admin, &path, &y_under_x),
            );
            let mut statuses = [first.status().as_u16(), second.status().as_u16()];
            statuses.sort();
            assert_eq!(statuses, [200, 400], "round {round}: exactly one resource re-parenting wins");
            let under_x = ok_json(app.get_as(&admin, &format!("{BASE}/resources/{x}/children")).await).await;
            let under_y = ok_json(app.get_as(&admin, &format!("{BASE}/resources/{y}/children")).await).await;
            assert_eq!(under_x.as_array().unwrap().len() + under_y.as_array().unwrap().len(), 1, "round {round}");
        }
    }

    async fn a_group_subscriber_hears_of_bookings_two_levels_below(app: TestApp) {
        let admin = app.admin().await;
        let (bob, eve) = (app.user("bob").await, app.user("eve").await);
        let building = group(&app, &admin, json!({"name": "Building"})).await;
        let floor = group(&app, &admin, json!({"name": "Floor", "parent_id": building})).await;
        let room = group(&app, &admin, json!({"name": "Room", "parent_id": floor})).await;
        let elsewhere = group(&app, &admin, json!({"name": "Elsewhere"})).await;
        let desk = app.resource(&admin, "Desk").await;
        let other = app.resource(&admin, "Other desk").await;
        ok_json(app.post_json_as(&admin, &format!("{BASE}/{room}/resources"), &json!({"resource_id": desk})).await).await;
        ok_json(app.post_json_as(&admin, &format!("{BASE}/{elsewhere}/resources"), &json!({"resource_id": other})).await).await;

        let mut socket = app.ws_with(&bob, &format!("group={building}")).await;
        // Eve's booking elsewhere is not bob's business; hers under the building is.
        assert_eq!(app.book(&eve, other, &at(1, 0), &at(2, 0)).await.status(), 201);
        assert_eq!(app.book(&eve, desk, &at(3, 0), &at(4, 0)).await.status(), 201);
        let heard = socket.next_of("reservation_created").await;
        assert_eq!(heard["resource_id"], desk, "{heard}");
        assert!(heard.get("user_id").is_none() && heard.get("username").is_none(), "no names: {heard}");

        assert_eq!(app.ws_refusal(&format!("token={}&group=9999", bob.token)).await, 404);
    }

    async fn a_socket_resumed_on_a_group_misses_nothing_under_it(app: TestApp) {
        let admin = app.admin().await;
        let (bob, eve) = (app.user("bob").await, app.user("eve").await);
        let building = group(&app, &admin, json!({"name": "Building"})).await;
        let room = group(&app, &admin, json!({"name": "Room", "parent_id": building})).await;
        let (desk, lamp) = (app.resource(&admin, "Desk").await, app.resource(&admin, "Lamp").await);
        let assign = |resource: i64| {
            let (app, admin) = (&app, &admin);
            async move {
                let path = format!("{BASE}/{room}/resources");
                ok_json(app.post_json_as(admin, &path, &json!({"resource_id": resource})).await).await;
            }
        };
        assign(desk).await;

        let mut socket = app.ws_with(&bob, &format!("group={building}")).await;
        assert_eq!(app.book(&eve, desk, &at(1, 0), &at(2, 0)).await.status(), 201);
        let heard = socket.next_of("reservation_created").await;
        let seq = heard["seq"].as_i64().unwrap();
        socket.close().await;

        // While bob is away: a booking under the building, then the lamp put into the room and
        // booked.
        assert_eq!(app.book(&eve, desk, &at(3, 0), &at(4, 0)).await.status(), 201);
        assign(lamp).await;
        assert_eq!(app.book(&eve, lamp, &at(5, 0), &at(6, 0)).await.status(), 201);

        let mut resumed = app.ws_with(&bob, &format!("group={building}&since={seq}")).await;
        let mut replayed = Vec::new();
        while replayed.last() != Some(&(lamp, at(5, 0))) {
            let message = resumed.next_of("reservation_created").await;
            let start = message["start_time"].as_str().unwrap().to_owned();
            replayed.push((message["resource_id"].as_i64().unwrap(), start));
        }
        assert_eq!(replayed, [(desk, at(3, 0)), (lamp, at(5, 0))]);
    }

    async fn a_group_followed_by_message_follows_the_hierarchy_as_it_changes(app: TestApp) {
        let admin = app.admin().await;
        let (bob, eve) = (app.user("bob").await, app.user("eve").await);
        let building = group(&app, &admin, json!({"name": "Building"})).await;
        let floor = group(&app, &admin, json!({"name": "Floor", "parent_id": building})).await;
        let room = group(&app, &admin, json!({"name": "Room", "parent_id": floor})).await;
        let annex = group(&app, &admin, json!({"name": "Annex"})).await;
        let (desk, lamp, chair) = (
            app.resource(&admin, "Desk").await,
            app.resource(&admin, "Lamp").await,
            app.resource(&admin, "Chair").await,
        );
        let bobs_own = app.resource(&admin, "Bob's own").await;
        let assign = |group: i64, resource: i64| {
            let (app, admin) = (&app, &admin);
            async move {
                let path = format!("{BASE}/{group}/resources");
                ok_json(app.post_json_as(admin, &path, &json!({"resource_id": resource})).await).await;
            }
        };
        assign(room, desk).await;
        assign(annex, lamp).await;
        let mut slot = 0;
        let mut book = |user: &TestUser, resource: i64| {
            slot += 2;
            let (app, user, start, end) = (&app, user.clone(), at(slot, 0), at(slot + 1, 0));
            async move { assert_eq!(app.book(&user, resource, &start, &end).await.status(), 201) }
        };

        let mut socket = app.ws(&bob).await;
        socket.send_json(json!({"type": "subscribe", "groups": [building]})).await;
        let ack = socket.next_of("subscribed").await;
        assert_eq!(ack["groups"], json!([building]), "{ack}");
        assert_eq!(ack["resources"], json!([]), "a group is not expanded into resources: {ack}");

        // Two levels below the building (building → floor → room → desk): heard; the annex's
        // lamp is not under it.
        book(&eve, lamp).await;
        book(&eve, desk).await;
        let heard = socket.next_of("reservation_created").await;
        assert_eq!(heard["resource_id"], desk, "{heard}");
        assert!(heard.get("user_id").is_none() && heard.get("username").is_none(), "no names: {heard}");

        // The annex re-parented under the floor: its lamp is followed from then on.
        let moved = app.patch_json_as(&admin, &format!("{BASE}/{annex}"), &json!({"parent_id": floor})).await;
        assert_eq!(moved.status(), 200);
        book(&eve, lamp).await;
        assert_eq!(socket.next_of("reservation_created").await["resource_id"], lamp);

        // The desk taken out of the room: no longer delivered; a chair put into the room is.
        let out = app.delete_as(&admin, &format!("{BASE}/{room}/resources/{desk}")).await;
        assert_eq!(out.status(), 200);
        assign(room, chair).await;
        book(&eve, desk).await;
        book(&eve, chair).await;
        assert_eq!(socket.next_of("reservation_created").await["resource_id"], chair, "the desk moved out");

        // An unknown group is refused and changes nothing.
        socket.send_json(json!({"type": "subscribe", "groups": [9999]})).await;
        let refused = socket.next_of("error").await;
        assert_eq!(refused["detail"], "Resource group not found: 9999", "{refused}");

        // Unsubscribed: the building's resources are no longer delivered (bob's own booking,
        // which he always hears of, marks where the silence ends).
        socket.send_json(json!({"type": "unsubscribe", "groups": [building]})).await;
        let ack = socket.next_of("unsubscribed").await;
        assert_eq!(ack["groups"], json!([]), "{ack}");
        book(&eve, chair).await;
        book(&bob, bobs_own).await;
        assert_eq!(socket.next_of("reservation_created").await["resource_id"], bobs_own);
    }
}
